package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/storage"
)

var lockCommand = command{
	name:    "lock",
	summary: "wait for and take the apply lock of the production state; print the lock ID (the post step releases it)",
	options: applyLockOptions,
	run:     runLock,
}

// lockLease is the lease of a lock without heartbeats: a job's 6 h limit.
// A waiter takes over sooner when GitHub says the holder's run completed.
const lockLease = 6 * time.Hour

func runLock(ctx context.Context, inv *invocation) error {
	if len(inv.cfg.Stacks) > 1 {
		return runLockStacks(ctx, inv)
	}
	l, _, v, err := inv.takeApplyLock(ctx, "lock", lockLease, false)
	if err != nil {
		return err
	}
	if l == nil {
		if inv.cfg.JSON {
			return inv.printJSON(map[string]any{"superseded": true})
		}
		return nil
	}
	inv.lockOutputs(l)
	inv.logf("holding the apply lock %s (lock ID %s)", l.Where(), l.ID())
	inv.reportApply(ctx, "lock", inv.lockedReport(v, l), fmt.Sprintf("Holding the apply lock `%s` (lock ID `%s`); the post step releases it.", l.Where(), l.ID()))
	if inv.cfg.JSON {
		return inv.printJSON(map[string]any{"lock_id": l.ID(), "lock": l.Where(), "superseded": false})
	}
	fmt.Fprintln(inv.stdout(), l.ID())
	return nil
}

// takeApplyLock takes the apply lock and checks the commit against the
// ledger. With heartbeats, they start right after the lock is taken (the
// Keeper returned). A superseded commit (or a failed check) gives the lock
// to the next job at once: the lock returned is then nil.
func (inv *invocation) takeApplyLock(ctx context.Context, command string, lease time.Duration, heartbeats bool) (*applylock.ApplyLock, *applylock.Keeper, applylock.Verdict, error) {
	store, st, err := inv.applyLockStore(ctx)
	if err != nil {
		return nil, nil, applylock.Verdict{}, err
	}
	l, err := inv.newApplyLock(store, lease, heartbeats)
	if err != nil {
		return nil, nil, applylock.Verdict{}, err
	}
	if inv.cfg.LockBackend == "dynamodb" {
		if err := inv.checkStateBucket(ctx, st); err != nil {
			inv.reportLockTimeout(command, err)
			return nil, nil, applylock.Verdict{}, err
		}
	}
	l.Coalesce(inv.waitQueue(st))
	if err := l.Acquire(ctx); err != nil {
		if v, ok := inv.skippedWhileWaiting(ctx, command, l, err); ok {
			return nil, nil, v, nil
		}
		inv.reportLockTimeout(command, err)
		return nil, nil, applylock.Verdict{}, err
	}
	var keeper *applylock.Keeper
	if heartbeats {
		keeper = l.Keep(ctx)
	}
	v, err := inv.checkSupersede(ctx, l, st)
	if err == nil && !v.Superseded {
		return l, keeper, v, nil
	}
	if keeper != nil {
		keeper.Stop()
	}
	if relErr := inv.releaseNow(ctx, l); relErr != nil {
		if errors.Is(err, applylock.ErrLockLost) && errors.Is(relErr, applylock.ErrLockLost) {
			return nil, nil, v, err // one loss, said once
		}
		return nil, nil, v, errors.Join(err, relErr)
	}
	if err != nil {
		return nil, nil, v, err
	}
	inv.reportApply(ctx, command, inv.lockedReport(v, l))
	return nil, nil, v, nil
}

// checkStateBucket makes sure the state bucket is there (and ours to
// read) before a DynamoDB lock is taken, which would not notice a wrong
// bucket: it reads the production state, as the apply will (its role
// allows that; an absent state is fine). It is bounded by lock-timeout,
// as the wait is.
func (inv *invocation) checkStateBucket(ctx context.Context, st Store) error {
	start := inv.app.Now()
	if inv.cfg.LockTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, inv.cfg.LockTimeout)
		defer cancel()
	}
	_, err := st.Bucket.GetObject(ctx, inv.cfg.Main().Keys.Production)
	switch {
	case err == nil || errors.Is(err, storage.ErrNotFound):
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &applylock.LockTimeoutError{Where: "s3://" + st.Bucket.Name(), Waited: inv.app.Now().Sub(start), Problem: err}
	}
	return fmt.Errorf("failed to check the state bucket before taking the apply lock: %w", err)
}

// releaseNow releases the lock whatever cancelled ctx.
func (inv *invocation) releaseNow(ctx context.Context, l *applylock.ApplyLock) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	return l.Release(rctx)
}

// lockedReport is the apply report of a run that took the lock: the
// supersede verdict and how long it waited, behind whom.
func (inv *invocation) lockedReport(v applylock.Verdict, l *applylock.ApplyLock) report.ApplyReport {
	r := inv.applyReport(v)
	w := l.Wait()
	r.Lock = report.LockSummary{Held: true, Waited: w.Waited, BehindRunURL: w.Behind.RunURL, BehindCommit: w.Behind.SHA, TookOver: w.TookOver}
	return r
}
