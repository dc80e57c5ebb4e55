package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// TestSweepCommandGoesOnPastALockedPRState: closed PR 5's state is locked
// by a planted lock (30m lock-timeout): the sweep skips it at once with a
// warning, removes PRs 2 and 8, exits 0, says so in the summary, and warns
// about the keys under the PR prefix the template does not match.
func TestSweepCommandGoesOnPastALockedPRState(t *testing.T) {
	t.Parallel()
	a, s, st, _ := sweepWorld(t)
	locked, _ := st.Keys.Render(5)
	info := applylock.LockInfo{ID: evilLockID, Operation: "OperationTypePlan", Who: "mallory@pr"}
	if err := s.Table.PutItem(context.Background(), storage.Item{storage.KeyAttr: statekey.LockItemID("acme-state", locked), "Info": string(info.Marshal())}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
	cleanuptest.Put(t, s, "app/pr-0042/terraform.tfstate", cleanuptest.StateJSON(1, "x"))
	cleanuptest.Put(t, s, "app/pr-zz/terraform.tfstate", cleanuptest.StateJSON(1, "x"))
	before := cleanuptest.Take(t, s)
	if code := a.run("sweep", "--lock-timeout", "30m"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	e := a.stderr.String()
	for _, want := range []string{
		"::warning::sweep kept " + locked + " (PR #5): locked by mallory@pr",
		"::warning::sweep: 2 key(s) under the PR prefix do not match the key template and are never deleted: app/pr-0042/terraform.tfstate, app/pr-zz/terraform.tfstate",
	} {
		if !strings.Contains(e, want) {
			t.Errorf("stderr lacks %q:\n%s", want, e)
		}
	}
	if sum := a.file("github_step_summary"); !strings.Contains(sum, "1 skipped: locked, the next sweep tries again") || !strings.Contains(sum, "2 key(s) under the PR prefix not matching the template") {
		t.Errorf("summary:\n%s", sum)
	}
	var gone []string
	for _, pr := range []int{2, 8} {
		k, _ := st.Keys.Render(pr)
		gone = append(gone, k, k+".tflock")
	}
	if d := cleanuptest.Diff(before.Without("acme-state", gone...), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("sweep changed more than PRs 2 and 8:\n%s", strings.Join(d, "\n"))
	}
}
