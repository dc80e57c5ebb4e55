package lockproof

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLostLockStopsTheCommand: when an operator force-unlocks a running
// `prstate run` and another job takes the lock, the next heartbeat finds
// the lock lost, stops the command and fails, and its release leaves the
// new holder's lock alone.
func TestLostLockStopsTheCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "s3")
	var errb bytes.Buffer
	run := w.prstate(t.Context(), "run", "--lease", "3s", "--", "sleep", "30")
	run.Stderr = &errb
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	var oldID string
	waitFor(t, 20*time.Second, "the lock", func() bool { r, ok := w.holder(t.Context()); oldID = r.ID; return ok })
	out, _ := w.output(0, "force-unlock", "--lock-id", oldID, "--force")
	if !strings.Contains(out, "removed apply lock "+oldID) {
		t.Fatalf("force-unlock: %s", out)
	}
	newID, _ := w.output(0, "lock")
	newID = strings.TrimSpace(newID)
	start := time.Now()
	err := run.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("run: %v, want exit 1\n%s", err, errb.String())
	}
	t.Logf("command stopped %s after the takeover", time.Since(start).Round(time.Millisecond))
	if time.Since(start) > 3*time.Second {
		t.Errorf("command ran on for %s after losing the lock (heartbeat every 1 s)", time.Since(start))
	}
	if !strings.Contains(errb.String(), "apply lock lost") {
		t.Errorf("stderr:\n%s", errb.String())
	}
	if rec, ok := w.holder(t.Context()); !ok || rec.ID != newID {
		t.Fatalf("the new holder's lock was touched: %+v", rec)
	}
}
