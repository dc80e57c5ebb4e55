package lockproof

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub answers GET /repos/acme/infra/actions/runs/4242 like GitHub's
// workflow run API, with the status the test sets.
type fakeGitHub struct {
	mu     sync.Mutex
	status string
	calls  int
	auth   string
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.auth = r.Header.Get("Authorization")
	if r.URL.Path != "/repos/acme/infra/actions/runs/4242" {
		http.NotFound(w, r)
		return
	}
	conclusion := "null"
	if f.status == "completed" {
		conclusion = `"cancelled"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"id":4242,"name":"apply","head_branch":"main","head_sha":"9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912","run_number":17,"run_attempt":1,"event":"push","status":"` + f.status + `","conclusion":` + conclusion + `,"workflow_id":99,"html_url":"https://github.com/acme/infra/actions/runs/4242","created_at":"2026-11-23T01:00:00Z","updated_at":"2026-11-23T01:05:00Z"}`))
}

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
	gh := &fakeGitHub{status: "in_progress"}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	const token = "ghs_deadrun_secret_token"

	w := newWorld(t, "s3")
	holder := &world{}
	*holder = *w
	holder.env = actionsEnv(t)
	id, _ := holder.output(0, "lock")
	id = strings.TrimSpace(id)
	if rec, ok := w.holder(t.Context()); !ok || rec.ID != id || rec.Holder.RunID != "4242" || rec.Holder.Lease != "6h0m0s" {
		t.Fatalf("holder record %+v", rec)
	}

	w.env = []string{"GITHUB_API_URL=" + srv.URL, "PRSTATE_GITHUB_TOKEN=" + token}
	_, stderr := w.output(3, "lock", "--lock-timeout", "2s")
	if !strings.Contains(stderr, "prstate force-unlock --lock-id "+id) || !strings.Contains(stderr, "actions/runs/4242") {
		t.Fatalf("timeout message:\n%s", stderr)
	}
	if rec, _ := w.holder(t.Context()); rec.ID != id {
		t.Fatalf("a live run's lock was taken: %+v", rec)
	}

	gh.mu.Lock()
	gh.status = "completed"
	gh.mu.Unlock()
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
	gh.mu.Lock()
	defer gh.mu.Unlock()
	if gh.auth != "Bearer "+token {
		t.Errorf("GitHub saw Authorization %q", gh.auth)
	}
}
