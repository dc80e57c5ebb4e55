package applylock

import (
	"context"
	"errors"
	"testing"
	"time"

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
	id := NewLockID()
	var held []*Keeper
	var stores []LockStore
	for _, key := range []string{"a/terraform.tfstate.prstate-apply.lock", "b/terraform.tfstate.prstate-apply.lock"} {
		store := NewS3LockStore(b, key)
		l := NewApplyLock(store, Holder{Run: Run{RunID: "1"}}, LockOptions{ID: id, Lease: MinLease, Heartbeats: true})
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		held = append(held, l.Keep(ctx))
		stores = append(stores, store)
	}
	k := KeepAll(held...)
	defer k.Stop()
	if k.ID() != id {
		t.Fatalf("ID %q, want the shared %q", k.ID(), id)
	}
	if err := k.Check(ctx); err != nil {
		t.Fatalf("check while held: %v", err)
	}
	for _, h := range held {
		if k.KillBy().After(h.KillBy()) {
			t.Fatalf("kill time %s after a lock's %s", k.KillBy(), h.KillBy())
		}
	}
	// Someone frees the second lock (force-unlock) and another job takes it.
	if _, err := ReleaseByID(ctx, stores[1], id, nil); err != nil {
		t.Fatal(err)
	}
	other := NewApplyLock(stores[1], Holder{Run: Run{RunID: "2"}}, LockOptions{Lease: time.Hour})
	if err := other.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the combined keeper did not notice the lost lock")
	}
	if err := k.Err(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Err = %v, want ErrLockLost", err)
	}
	if err := held[0].Err(); err != nil {
		t.Fatalf("the first lock is still ours, but: %v", err)
	}
}
