package cleanup_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

func TestCleanupScenarios(t *testing.T) {
	t.Parallel()
	cleanuptest.Run(t, func(t *testing.T, versioned bool) cleanuptest.Store {
		// memstore is always versioned; the unversioned scenario still
		// holds there (older versions are just more to compare).
		return cleanuptest.Store{Bucket: memstore.NewBucket("acme-state"), Table: memstore.NewTable("tf-locks")}
	})
}

// TestCleanupManyHeldLocksWaitOnce: PR states whose locks stay held all
// wait at the same time, so a sweep over many stale locks takes one
// --lock-timeout, not one per PR, and reports each.
func TestCleanupManyHeldLocksWaitOnce(t *testing.T) {
	t.Parallel()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	s := cleanuptest.Store{Bucket: b, Table: tb}
	st := cleanuptest.Stack(t, s, false, true, false)
	cleanuptest.Production(t, s)
	var prs []int
	for pr := 1; pr <= 20; pr++ {
		key := cleanuptest.SeededPR(t, s, st, pr, 0)
		if err := tb.PutItem(context.Background(), storage.Item{storage.KeyAttr: statekey.LockItemID("acme-state", key), "Info": "{}"}, storage.Condition{}); err != nil {
			t.Fatal(err)
		}
		prs = append(prs, pr)
	}
	clk := clocktest.New()
	opts := cleanup.Options{LockTimeout: 5 * time.Minute, Poll: time.Second, Parallel: 4, Clock: clk}
	start := clk.Now()
	res, err := cleanup.Run(context.Background(), cleanuptest.CleanupStore(st, s), st, prs, opts)
	// One deadline for every waiter: 20 held locks cost one lock-timeout.
	if d := clk.Now().Sub(start); d < opts.LockTimeout || d > opts.LockTimeout+opts.Poll {
		t.Fatalf("20 held locks took %s with a %s timeout", d, opts.LockTimeout)
	}
	var te *cleanup.StateLockTimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err %v", err)
	}
	for _, r := range res {
		if r.Removed() || !strings.Contains(r.Error, "stayed locked") {
			t.Fatalf("%+v", r)
		}
	}
}
