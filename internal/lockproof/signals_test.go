package lockproof

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalsReleaseTheLock: SIGINT or SIGTERM to `prstate run` (only to
// prstate) ends the command and releases the lock within 2 s. Either
// reaches the command as SIGINT first (Terraform's graceful stop), so
// prstate exits as the command did: 128+SIGINT.
func TestSignalsReleaseTheLock(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "dynamodb")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		up := filepath.Join(t.TempDir(), "up")
		cmd := w.prstate(t.Context(), "run", "--", "sh", "-c", `echo up > "`+up+`"; exec sleep 60`)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the signal reaches the command only through prstate
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the lock", func() bool { _, ok := w.holder(t.Context()); return ok })
		waitFor(t, 20*time.Second, "the command", func() bool { _, err := os.Stat(up); return err == nil })
		sent := time.Now()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		released := waitFor(t, 5*time.Second, "the release", func() bool { _, ok := w.holder(t.Context()); return !ok })
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGINT) {
			t.Errorf("%v: exit %v, want %d", sig, err, 128+int(syscall.SIGINT))
		}
		d := released.Sub(sent)
		t.Logf("%v: lock released %s after the signal", sig, d.Round(time.Millisecond))
		if d > 2*time.Second {
			t.Errorf("%v: released after %s, want within 2s", sig, d)
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
