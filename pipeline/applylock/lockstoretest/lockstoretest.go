// Package lockstoretest is the conformance suite of applylock.LockStore:
// the apply lock's record is a record.Record (recordtest's suite), and the
// whole lock protocol keeps its holders apart on it. It runs against the
// in-memory fake, moto and MinIO alike.
package lockstoretest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/record/recordtest"
)

// Run runs the suite. newStore returns an empty record of its own for
// each subtest (subtests run in parallel).
func Run(t *testing.T, newStore func(t *testing.T) applylock.LockStore) {
	recordtest.Run(t, func(t *testing.T) recordtest.Record { return newStore(t) })
	t.Run("ApplyLockExclusion", func(t *testing.T) {
		t.Parallel()
		applyLockExclusion(t, newStore(t))
	})
}

// applyLockExclusion runs the whole protocol on the store: goroutines take
// and release the lock around a critical section that detects overlap.
func applyLockExclusion(t *testing.T, s applylock.LockStore) {
	const workers, rounds = 4, 5
	var inside, overlaps, total atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l := applylock.NewApplyLock(s, applylock.Holder{}, applylock.LockOptions{Lease: time.Minute, Poll: 5 * time.Millisecond, Timeout: time.Minute})
				if err := l.Acquire(t.Context()); err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				total.Add(1)
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				if err := l.Release(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if overlaps.Load() != 0 || total.Load() != workers*rounds {
		t.Fatalf("%d overlaps in %d critical sections", overlaps.Load(), total.Load())
	}
	if _, err := s.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Read after the last release: got %v, want %v", err, storage.ErrNotFound)
	}
}
