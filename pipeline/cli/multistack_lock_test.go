package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestLockOverStacksTakesEveryLockInKeyOrder: lock over stacks/* takes the
// three apply locks in the order of their keys (not of their directories),
// under one lock ID; unlock (as the post step would) releases all three
// in reverse order.
func TestLockOverStacksTakesEveryLockInKeyOrder(t *testing.T) {
	t.Parallel()
	b := &orderBucket{Bucket: memstore.NewBucket("acme-state")}
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	writeThreeStacks(t, a.dir)
	if code := a.run("lock", "--working-directory", "stacks/*", "--json"); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, a.stderr.String())
	}
	var out struct {
		LockID string   `json:"lock_id"`
		Locks  []string `json:"locks"`
	}
	if err := json.Unmarshal(a.stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, a.stdout.String())
	}
	want := []string{
		"prod/a-db/terraform.tfstate.prstate-apply.lock",
		"prod/b-net/terraform.tfstate.prstate-apply.lock",
		"prod/c-app/terraform.tfstate.prstate-apply.lock",
	}
	if got := b.writes(); !slices.Equal(got, want) {
		t.Fatalf("locks written in order %q, want %q", got, want)
	}
	t.Logf("lock order: %q", b.writes())
	if len(out.Locks) != 3 {
		t.Fatalf("json locks %q", out.Locks)
	}
	for _, key := range want {
		obj, err := b.GetObject(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := applylock.ParseRecord(obj.Body)
		if rec.ID != out.LockID {
			t.Errorf("%s held by %q, want the shared ID %q", key, rec.ID, out.LockID)
		}
	}
	if s := a.file("github_state"); !strings.Contains(s, out.LockID) {
		t.Errorf("the post step's lock ID is not saved:\n%s", s)
	}
	if code := a.run("unlock", "--working-directory", "stacks/*", "--lock-id", out.LockID); code != 0 {
		t.Fatalf("unlock: exit %d: %s", code, a.stderr.String())
	}
	released := b.writes()[3:]
	slices.Reverse(want)
	if !slices.Equal(released, want) {
		t.Fatalf("released in order %q, want %q", released, want)
	}
	for _, key := range want {
		if obj, err := b.GetObject(t.Context(), key); err != nil || !applylock.IsReleasedRecord(obj.Body) {
			t.Errorf("%s not released: %s %v", key, obj.Body, err)
		}
	}
}

// TestLockOverStacksAllOrNothing: when one stack's lock is held by
// another job, lock over all three times out (exit 3) and gives back the
// locks it took before it: none stays held by us.
func TestLockOverStacksAllOrNothing(t *testing.T) {
	t.Parallel()
	b := &orderBucket{Bucket: memstore.NewBucket("acme-state")}
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	writeThreeStacks(t, a.dir)
	if code := a.run("lock", "--working-directory", "stacks/net"); code != 0 {
		t.Fatalf("lock net: exit %d: %s", code, a.stderr.String())
	}
	other := strings.TrimSpace(a.stdout.String())
	if code := a.run("lock", "--working-directory", "stacks/*", "--lock-timeout", "300ms", "--lock-poll", "50ms"); code != 3 {
		t.Fatalf("lock: exit %d, want 3: %s", code, a.stderr.String())
	}
	db, err := b.GetObject(t.Context(), "prod/a-db/terraform.tfstate.prstate-apply.lock")
	if err != nil || !applylock.IsReleasedRecord(db.Body) {
		t.Fatalf("the lock taken before the busy one is still held: %s %v", db.Body, err)
	}
	if _, err := b.GetObject(t.Context(), "prod/c-app/terraform.tfstate.prstate-apply.lock"); err == nil {
		t.Fatalf("the lock after the busy one was taken")
	}
	net, _ := b.GetObject(t.Context(), "prod/b-net/terraform.tfstate.prstate-apply.lock")
	if rec, _ := applylock.ParseRecord(net.Body); rec.ID != other {
		t.Fatalf("the other job's lock changed hands: %+v", rec)
	}
}

// TestRunOverStacks: run takes the three locks, runs the command once
// under all of them (with the shared lock ID) and releases them in
// reverse order.
func TestRunOverStacks(t *testing.T) {
	t.Parallel()
	b := &orderBucket{Bucket: memstore.NewBucket("acme-state")}
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	writeThreeStacks(t, a.dir)
	code := a.run("run", "--working-directory", "stacks/app,stacks/db,stacks/net", "--", "sh", "-c", `test -n "$PRSTATE_LOCK_ID" && echo ran && exit 5`)
	if code != 5 || strings.Count(a.stdout.String(), "ran") != 1 {
		t.Fatalf("exit %d, want 5; stdout %q: %s", code, a.stdout.String(), a.stderr.String())
	}
	want := []string{
		"prod/a-db/terraform.tfstate.prstate-apply.lock",
		"prod/b-net/terraform.tfstate.prstate-apply.lock",
		"prod/c-app/terraform.tfstate.prstate-apply.lock",
	}
	got := b.writes()
	if len(got) < 6 || !slices.Equal(got[:3], want) {
		t.Fatalf("writes %q", got)
	}
	// Heartbeats may renew in between; the last three writes are the
	// releases, newest lock first.
	rel := got[len(got)-3:]
	slices.Reverse(want)
	if !slices.Equal(rel, want) {
		t.Fatalf("released in order %q, want %q", rel, want)
	}
	for _, key := range want {
		if obj, err := b.GetObject(t.Context(), key); err != nil || !applylock.IsReleasedRecord(obj.Body) {
			t.Errorf("%s not released: %v", key, err)
		}
	}
}

// TestLockOverStacksPutsEachLockWhereItsStackAloneWould: under
// lock-backend auto, a stack with a DynamoDB table gets its apply lock in
// the table and one without in S3, whatever the other stacks of the job
// have: the same place a job of that stack alone locks, so the two
// exclude each other.
func TestLockOverStacksPutsEachLockWhereItsStackAloneWould(t *testing.T) {
	t.Parallel()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	a := newTestApp(t, Store{Bucket: b, Table: tb})
	a.actions("push", "push.json")
	writeStack(t, filepath.Join(a.dir, "stacks", "zz"), "a/terraform.tfstate") // with dynamodb_table, after the others
	writeThreeStacks(t, a.dir)                                                 // without
	if code := a.run("lock", "--working-directory", "stacks/zz"); code != 0 {
		t.Fatalf("lock zz alone: exit %d: %s", code, a.stderr.String())
	}
	if code := a.run("lock", "--working-directory", "stacks/*", "--lock-timeout", "300ms", "--lock-poll", "50ms"); code != 3 {
		t.Fatalf("lock over all while a is held: exit %d, want 3: %s", code, a.stderr.String())
	}
	if _, err := tb.GetItem(t.Context(), "acme-state/a/terraform.tfstate.prstate-apply"); err != nil {
		t.Fatalf("a's lock is not in the table: %v", err)
	}
	if _, err := b.GetObject(t.Context(), "a/terraform.tfstate.prstate-apply.lock"); err == nil {
		t.Fatal("a's lock was also taken in S3")
	}
	if code := a.run("lock", "--working-directory", "stacks/*", "--lock-backend", "dynamodb"); code != 2 || !strings.Contains(a.stderr.String(), "has none") {
		t.Fatalf("lock-backend dynamodb with stacks without a table: exit %d: %s", code, a.stderr.String())
	}
}

// TestForStackLeavesTheParentAlone: option groups are shared pointers, so
// narrowing to one stack (and giving it its share of the lock timeout)
// must work on copies; the job's other stacks keep theirs.
func TestForStackLeavesTheParentAlone(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	inv := a.invoke("--bucket", "acme-state", "--key", "app/terraform.tfstate", "--lock-timeout", "10m", "--lock-backend", "auto")
	parent := inv.cfg.Main()
	other := parent
	other.Dir = "elsewhere"
	other.Backend.DynamoDBTable = "locks"
	sub := inv.forStack(other)
	sub.cfg.LockTimeout = time.Second
	if sub.cfg.LockBackend != "dynamodb" || sub.cfg.Main().Dir != "elsewhere" {
		t.Fatalf("forStack: lock backend %q, stack %q", sub.cfg.LockBackend, sub.cfg.Main().Dir)
	}
	if inv.cfg.LockTimeout != 10*time.Minute || inv.cfg.Main().Dir != parent.Dir || len(inv.cfg.Stacks) != 1 || inv.cfg.LockBackend == "dynamodb" {
		t.Errorf("the parent changed: lock timeout %s, stacks %v, lock backend %q", inv.cfg.LockTimeout, inv.cfg.Stacks, inv.cfg.LockBackend)
	}
}
