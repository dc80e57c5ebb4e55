package cli

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// savedState parses GITHUB_STATE into what the runner gives the post step.
func savedState(t *testing.T, s string) map[string]string {
	t.Helper()
	state, err := runner.ParseFileCommands(s)
	if err != nil {
		t.Fatalf("GITHUB_STATE: %v\n%s", err, s)
	}
	return state
}

// TestPostStepAfterBadInput: a main step that fails on bad input still
// marks itself, so the post step (post-if: always()) does nothing instead
// of running the main step's command a second time.
func TestPostStepAfterBadInput(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	// No bucket anywhere: bad input.
	a.env["INPUT_COMMAND"], a.env["INPUT_KEY"] = "lock", "app/terraform.tfstate"
	if code := a.run(); code != 2 {
		t.Fatalf("main step: exit %d, want 2: %s", code, a.stderr.String())
	}
	state := savedState(t, a.file("github_state"))
	if state["prstate_post"] != "true" {
		t.Fatalf("a main step that failed on bad input saved %v: its post step would run the command again", state)
	}
	post := newTestApp(t, Store{Bucket: b})
	post.actions("push", "push.json")
	post.env["INPUT_COMMAND"], post.env["INPUT_KEY"] = "lock", "app/terraform.tfstate"
	for k, v := range state {
		post.env["STATE_"+k] = v
	}
	if code := post.run(); code != 0 || post.stdout.String() != "" || !strings.Contains(post.stderr.String(), "no lock to release") {
		t.Fatalf("post step: exit %d, stdout %q, stderr %s", code, post.stdout.String(), post.stderr.String())
	}
}
