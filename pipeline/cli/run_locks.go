package cli

import (
	"context"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
)

// runKeeper is what runLocked needs of the lock(s) it runs under: one
// stack's Keeper, or the Keepers of several stacks at once.
type runKeeper interface {
	ID() string
	Lost() <-chan struct{}
	Err() error
	KillBy() time.Time
	StopBy() time.Time
	Lease() time.Duration
	Check(ctx context.Context) error
	Stop()
}

// takeRunLocks takes the apply lock(s) run runs under, with heartbeats:
// the one stack's, or every stack's in lock order, all or nothing
// (takeApplyLocks). held is nil when the commit is superseded.
func (inv *invocation) takeRunLocks(ctx context.Context) ([]heldLock, runKeeper, error) {
	if len(inv.cfg.Stacks) > 1 {
		held, err := inv.takeApplyLocks(ctx, "run", runLease, true)
		if err != nil || held == nil {
			return nil, nil, err
		}
		ks := make([]*applylock.Keeper, len(held))
		for i, h := range held {
			ks[i] = h.keeper
		}
		return held, applylock.KeepAll(ks...), nil
	}
	t, err := inv.takeApplyLock(ctx, "run", runLease, true)
	if err != nil || t.Skipped {
		return nil, nil, err
	}
	return []heldLock{{inv: inv, l: t.Lock, keeper: t.Keeper, v: t.Verdict}}, t.Keeper, nil
}
