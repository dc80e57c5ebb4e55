package lockproof

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/githubfake"
)

// actionsEnv makes a prstate process look like a step of run 4242.
func actionsEnv(t *testing.T) []string {
	dir := t.TempDir()
	payload, err := filepath.Abs(filepath.Join("..", "..", "pipeline", "ci", "testdata", "events", "push.json"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=push", "GITHUB_EVENT_PATH=" + payload,
		"GITHUB_REPOSITORY=acme/infra", "GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=1", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_SHA=9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912", "GITHUB_REF=refs/heads/main"}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(dir, strings.ToLower(f))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, f+"="+p)
	}
	return env
}

// TestDeadRunIsTakenOverAtOnce: a `prstate lock` holder (6 h lease, no
// heartbeats) whose GitHub run completed is taken over at once; while the
// run is in progress, the waiter waits and times out with exit 3.
func TestDeadRunIsTakenOverAtOnce(t *testing.T) {
	t.Parallel()
	const token = "ghs_deadrun_secret_token"
	gh := githubfake.New(t, "acme/infra")
	gh.Token = token // a request without it is refused
	gh.SetRun(4242, "in_progress")

	w := newWorld(t, "s3")
	holder := &world{}
	*holder = *w
	holder.env = actionsEnv(t)
	id, _ := holder.output(0, "lock")
	id = strings.TrimSpace(id)
	if rec, ok := w.holder(t.Context()); !ok || rec.ID != id || rec.Holder.RunID != "4242" || rec.Holder.Lease != "6h0m0s" {
		t.Fatalf("holder record %+v", rec)
	}

	w.env = []string{"GITHUB_API_URL=" + gh.URL, "PRSTATE_GITHUB_TOKEN=" + token}
	_, stderr := w.output(3, "lock", "--lock-timeout", "2s")
	if !strings.Contains(stderr, "prstate force-unlock --lock-id '"+id+"'") || !strings.Contains(stderr, "actions/runs/4242") {
		t.Fatalf("timeout message:\n%s", stderr)
	}
	if rec, _ := w.holder(t.Context()); rec.ID != id {
		t.Fatalf("a live run's lock was taken: %+v", rec)
	}

	gh.SetRun(4242, "completed")
	start := time.Now()
	var out, errb bytes.Buffer
	cmd := w.prstate(t.Context(), "lock", "--lock-timeout", "1m")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("waiter: %v\n%s", err, errb.String())
	}
	took := time.Since(start)
	newID := strings.TrimSpace(out.String())
	if rec, _ := w.holder(t.Context()); rec.ID != newID || newID == id {
		t.Fatalf("lock not taken over: %+v, waiter %q", rec, newID)
	}
	t.Logf("dead run taken over in %s (process start to exit)", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("takeover took %s, want at once", took)
	}
	for _, want := range []string{"took over the apply lock", id, "run has completed"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	if strings.Contains(errb.String()+stderr, token) {
		t.Error("token printed")
	}
	if gh.Requests(githubfake.RouteRun) == 0 {
		t.Error("the waiter never asked GitHub about the holder's run")
	}
}
