package awsstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForEachBatch(t *testing.T) {
	var (
		mu      sync.Mutex
		covered = make([]int, 2501)
		running atomic.Int32
		peak    atomic.Int32
	)
	errBoom := errors.New("boom")
	err := forEachBatch(t.Context(), len(covered), 1000, 2, func(ctx context.Context, lo, hi int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		if hi-lo > 1000 {
			t.Errorf("batch [%d,%d) exceeds 1000", lo, hi)
		}
		mu.Lock()
		for i := lo; i < hi; i++ {
			covered[i]++
		}
		mu.Unlock()
		if lo == 1000 {
			return errBoom
		}
		return nil
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err %v, want boom joined", err)
	}
	for i, c := range covered {
		if c != 1 {
			t.Fatalf("element %d covered %d times", i, c)
		}
	}
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d batches ran at once, limit 2", p)
	}
	if err := forEachBatch(t.Context(), 0, 25, 8, func(context.Context, int, int) error {
		t.Fatal("called for no elements")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestForEachBatchCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var calls atomic.Int32
	err := forEachBatch(ctx, 100, 10, 1, func(ctx context.Context, lo, hi int) error {
		calls.Add(1)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := calls.Load(); n > 1 {
		t.Fatalf("%d batches started after cancel", n)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 40 {
		if d := backoff(attempt); d <= 0 || d > backoffCap+time.Millisecond {
			t.Fatalf("backoff(%d) = %v", attempt, d)
		}
	}
}
