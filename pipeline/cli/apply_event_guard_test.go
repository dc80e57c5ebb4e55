package cli

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestApplyLockRefusedOnPullRequestEvents: lock, run and unlock of the
// apply lock on a pull request event (GitHub pull_request,
// pull_request_target, merge_group, a GitLab merge request pipeline, or
// --pr) exit 2 before the store is touched: not one call reaches the
// bucket or the table, so neither the lock nor the ledger exists.
func TestApplyLockRefusedOnPullRequestEvents(t *testing.T) {
	t.Parallel()
	events := []struct {
		name string
		set  func(a *testApp)
	}{
		{"pull_request", func(a *testApp) { a.actions("pull_request", "pull_request_synchronize.json") }},
		{"pull_request_target", func(a *testApp) { a.actions("pull_request_target", "pull_request_closed_merged.json") }},
		{"merge_group", func(a *testApp) { a.actions("merge_group", "merge_group.json") }},
		{"gitlab merge request", func(a *testApp) {
			for k, v := range map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "42", "CI_COMMIT_SHA": "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"} {
				a.env[k] = v
			}
		}},
		{"--pr", func(a *testApp) {}},
	}
	commands := [][]string{
		{"lock"},
		{"run", "--", "true"},
		{"unlock", "--lock-id", "0f6bd0e4-1c1b-4c5f-9e9b-3d5f5e0f6b1a"},
	}
	for _, ev := range events {
		for _, c := range commands {
			t.Run(ev.name+"/"+c[0], func(t *testing.T) {
				t.Parallel()
				b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
				a := newTestApp(t, Store{Bucket: b, Table: tb})
				ev.set(a)
				argv := append(args(c[0], "--dynamodb-table", "locks"), c[1:]...)
				if ev.name == "--pr" {
					argv = append(args(c[0], "--dynamodb-table", "locks", "--pr", "42"), c[1:]...)
				}
				if code := a.run(argv...); code != 2 {
					t.Fatalf("exit %d, want 2: %s", code, a.stderr.String())
				}
				if !strings.Contains(a.stderr.String(), "the apply lock is for the default branch; PR plans use their own key") {
					t.Errorf("stderr: %s", a.stderr.String())
				}
				if calls := b.Calls(); len(calls) != 0 {
					t.Errorf("bucket calls %v", calls)
				}
				if calls := tb.Calls(); len(calls) != 0 {
					t.Errorf("table calls %v", calls)
				}
				for _, key := range []string{applyLockObject, statekey.LedgerObjectKey("app/terraform.tfstate")} {
					if _, err := b.GetObject(t.Context(), key); err == nil {
						t.Errorf("%s exists", key)
					}
				}
			})
		}
	}
}
