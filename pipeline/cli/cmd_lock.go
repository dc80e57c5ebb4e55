package cli

import (
	"context"
	"fmt"
	"time"
)

var lockCommand = command{
	name:     "lock",
	summary:  "wait for and take the apply lock of the production state; print the lock ID (the post step releases it)",
	settings: lockSettings,
	run:      runLock,
}

// lockLease is the lease of a lock without heartbeats: a job's 6 h limit.
// A waiter takes over sooner when GitHub says the holder's run completed.
const lockLease = 6 * time.Hour

func runLock(ctx context.Context, inv *invocation) error {
	store, _, err := inv.applyLockStore(ctx)
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
	inv.lockOutputs(l)
	inv.logf("holding the apply lock %s (lock ID %s)", l.Where(), l.ID())
	inv.rep.AddStepSummary(fmt.Sprintf("### prstate lock\n\nHolding the apply lock `%s` (lock ID `%s`).\n", l.Where(), l.ID()))
	if inv.cfg.JSON {
		return inv.printJSON(map[string]string{"lock_id": l.ID(), "lock": l.Where()})
	}
	fmt.Fprintln(inv.stdout(), l.ID())
	return nil
}
