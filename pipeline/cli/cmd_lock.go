package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline"
)

var lockCommand = command{
	name:     "lock",
	summary:  "wait for and take the apply lock of the production state; print the lock ID (the post step releases it)",
	settings: append(append([]string{}, lockSettings...), "allow-diverged", "comment"),
	run:      runLock,
}

// lockLease is the lease of a lock without heartbeats: a job's 6 h limit.
// A waiter takes over sooner when GitHub says the holder's run completed.
const lockLease = 6 * time.Hour

func runLock(ctx context.Context, inv *invocation) error {
	store, st, err := inv.applyLockStore(ctx)
	if err != nil {
		return err
	}
	l, err := inv.newApplyLock(store, lockLease)
	if err != nil {
		return err
	}
	if err := l.Acquire(ctx); err != nil {
		return err
	}
	v, err := inv.checkSupersede(ctx, st)
	if err != nil || v.Superseded {
		// Nothing to apply under the lock: give it to the next job now.
		if relErr := inv.releaseNow(ctx, l); relErr != nil {
			return errors.Join(err, relErr)
		}
		if err != nil {
			return err
		}
		inv.reportApply(ctx, "lock", inv.lockedReport(v, l))
		if inv.cfg.JSON {
			return inv.printJSON(map[string]any{"superseded": true, "lock": l.Where()})
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

// releaseNow releases the lock whatever cancelled ctx.
func (inv *invocation) releaseNow(ctx context.Context, l *pipeline.ApplyLock) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	return l.Release(rctx)
}

// lockedReport is the apply report of a run that took the lock: the
// supersede verdict and how long it waited, behind whom.
func (inv *invocation) lockedReport(v pipeline.Verdict, l *pipeline.ApplyLock) pipeline.ApplyReport {
	r := inv.applyReport(v)
	w := l.Wait()
	r.Lock = pipeline.LockSummary{Held: true, Waited: w.Waited, BehindRunURL: w.Behind.RunURL, BehindCommit: w.Behind.SHA, TookOver: w.TookOver}
	return r
}
