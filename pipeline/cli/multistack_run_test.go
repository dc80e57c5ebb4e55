package cli

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestKeepersLostWhenAnyLockIsLost: run over several stacks watches all
// their locks: when the second stack's lock is taken by someone else, the
// combined keeper is lost (the command is stopped), says why, and its kill
// time is no later than any lock's.
func TestKeepersLostWhenAnyLockIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := memstore.NewBucket("acme-state")
	id := applylock.NewLockID()
	var held []heldLock
	var stores []applylock.LockStore
	for _, key := range []string{"a/terraform.tfstate.prstate-apply.lock", "b/terraform.tfstate.prstate-apply.lock"} {
		store := applylock.NewS3LockStore(b, key)
		l := applylock.NewApplyLock(store, applylock.Holder{Run: applylock.Run{RunID: "1"}}, applylock.LockOptions{ID: id, Lease: applylock.MinLease, Heartbeats: true})
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		held = append(held, heldLock{l: l, keeper: l.Keep(ctx)})
		stores = append(stores, store)
	}
	k := newKeepers(held)
	defer k.Stop()
	if k.ID() != id {
		t.Fatalf("ID %q, want the shared %q", k.ID(), id)
	}
	if err := k.Check(ctx); err != nil {
		t.Fatalf("check while held: %v", err)
	}
	for _, h := range held {
		if k.KillBy().After(h.keeper.KillBy()) {
			t.Fatalf("kill time %s after a lock's %s", k.KillBy(), h.keeper.KillBy())
		}
	}
	// Someone frees the second lock (force-unlock) and another job takes it.
	if _, err := applylock.ReleaseByID(ctx, stores[1], id, nil); err != nil {
		t.Fatal(err)
	}
	other := applylock.NewApplyLock(stores[1], applylock.Holder{Run: applylock.Run{RunID: "2"}}, applylock.LockOptions{Lease: time.Hour})
	if err := other.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the combined keeper did not notice the lost lock")
	}
	if err := k.Err(); !errors.Is(err, applylock.ErrLockLost) {
		t.Fatalf("Err = %v, want ErrLockLost", err)
	}
	if err := held[0].keeper.Err(); err != nil {
		t.Fatalf("the first lock is still ours, but: %v", err)
	}
}
