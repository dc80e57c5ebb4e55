package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/report"
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
	t, err := inv.takeApplyLock(ctx, "lock", lockLease, false)
	if err != nil {
		return err
	}
	l, v := t.Lock, t.Verdict
	if t.Skipped {
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

// lockedReport is the apply report of a run that took the lock: the
// supersede verdict and how long it waited, behind whom.
func (inv *invocation) lockedReport(v applylock.Verdict, l *applylock.ApplyLock) report.ApplyReport {
	r := inv.applyReport(v)
	w := l.Wait()
	r.Lock = report.LockSummary{Held: true, Waited: w.Waited, BehindRunURL: w.Behind.RunURL, BehindCommit: w.Behind.SHA, TookOver: w.TookOver}
	return r
}
