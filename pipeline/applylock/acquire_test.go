package applylock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// landThenHang applies a create and then never answers, as a request
// whose answer is lost in a partition does, until its context ends.
type landThenHang struct {
	LockStore
	sent chan struct{}
}

func (s *landThenHang) Create(ctx context.Context, body []byte) (string, error) {
	if _, err := s.LockStore.Create(ctx, body); err != nil {
		return "", err
	}
	close(s.sent)
	<-ctx.Done()
	return "", ctx.Err()
}

// TestAcquireTimeoutCutsOffARequestInFlight: the deadline ends a create
// whose answer never comes with *LockTimeoutError (not an interruption),
// within the timeout and the one-second clean-up, and the record that
// landed meanwhile is removed.
func TestAcquireTimeoutCutsOffARequestInFlight(t *testing.T) {
	t.Parallel()
	base := NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")
	const timeout = 200 * time.Millisecond
	l := NewApplyLock(&landThenHang{LockStore: base, sent: make(chan struct{})}, Holder{}, LockOptions{Lease: time.Hour, Timeout: timeout})
	start := time.Now()
	err := l.Acquire(t.Context())
	took := time.Since(start)
	var te *LockTimeoutError
	if !errors.As(err, &te) || te.Holder != "" || !errors.Is(te.Problem, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a timeout with the store unreachable", err)
	}
	if took > timeout+time.Second+500*time.Millisecond {
		t.Errorf("Acquire took %s with a timeout of %s: not a hard bound", took, timeout)
	}
	if _, err := base.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a timed-out acquire left its record: %v", err)
	}
}

// TestAcquireInterruptedInFlightIsNoTimeout: a caller that cancels while
// a create is in flight gets its cancellation back, even with a timeout
// set, and the record that landed is removed.
func TestAcquireInterruptedInFlightIsNoTimeout(t *testing.T) {
	t.Parallel()
	base := NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")
	store := &landThenHang{LockStore: base, sent: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-store.sent
		cancel()
	}()
	l := NewApplyLock(store, Holder{}, LockOptions{Lease: time.Hour, Timeout: time.Hour})
	err := l.Acquire(ctx)
	var te *LockTimeoutError
	if !errors.Is(err, context.Canceled) || errors.As(err, &te) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	if _, err := base.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an interrupted acquire left its record: %v", err)
	}
}
