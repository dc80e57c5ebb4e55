package cli

import (
	"strings"
	"testing"
)

// TestPullRequestTargetWarns: a job on pull_request_target runs with the
// base repository's secrets on a fork's code: every run says so in a
// warning annotation; pull_request does not.
func TestPullRequestTargetWarns(t *testing.T) {
	t.Parallel()
	for event, want := range map[string]bool{"pull_request_target": true, "pull_request": false} {
		a := newTestApp(t, Store{})
		a.actions(event, "pull_request_opened.json")
		if code := a.run("key", "--bucket", "acme-state", "--key", "app/terraform.tfstate"); code != 0 {
			t.Fatalf("%s: exit %d: %s", event, code, a.stderr.String())
		}
		got := strings.Contains(a.stderr.String(), "::warning::this job runs on pull_request_target: it has the base repository's secrets")
		if got != want {
			t.Errorf("%s: warning %v, want %v: %s", event, got, want, a.stderr.String())
		}
	}
}
