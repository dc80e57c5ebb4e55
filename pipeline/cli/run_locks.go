package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
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

// runRunStacks is run over several stacks: every stack's apply lock taken
// in lock order with heartbeats, the command run once under all of them,
// the locks released in reverse order on every exit path.
func runRunStacks(ctx context.Context, inv *invocation) error {
	if len(inv.args) == 0 {
		return &usage.Error{Msg: "run needs a command: prstate run [flags] -- CMD ARGS..."}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	becomeSubreaper()

	held, err := inv.takeApplyLocks(ctx, "run", runLease, true)
	if err != nil || held == nil {
		return err // nil: superseded, the command is skipped, exit 0
	}
	ks := make([]*applylock.Keeper, len(held))
	for i, h := range held {
		ks[i] = h.keeper
	}
	k := applylock.KeepAll(ks...)
	defer k.Stop()
	reports := make([]report.ApplyReport, len(held))
	for i, h := range held {
		reports[i] = h.inv.lockedReport(h.v, h.l)
	}
	inv.lockOutputs(held[0].l)
	inv.logf("holding %d apply locks (%s; lock ID %s): running %v", len(held), strings.Join(wheres(held), ", "), k.ID(), inv.args)
	runErr := inv.runLocked(ctx, k, sigs)
	k.Stop()

	timeout := applylock.ReleaseTimeout
	if k.Err() != nil {
		timeout = lostReleaseTimeout
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var lost, failed []error
	for _, h := range slices.Backward(held) {
		switch err := h.l.Release(rctx); {
		case errors.Is(err, applylock.ErrLockLost):
			lost = append(lost, err)
		case err != nil:
			failed = append(failed, err)
		}
	}
	err = runErr
	switch {
	case errors.Is(runErr, applylock.ErrLockLost) || len(lost) > 0:
		cause := runErr
		if !errors.Is(cause, applylock.ErrLockLost) {
			cause = errors.Join(lost...)
		}
		err = &lockLostError{where: strings.Join(wheres(held), ", "), command: inv.args[0], err: cause}
		inv.rep.SaveState("lock_id", "")
	case len(failed) > 0:
		relErr := errors.Join(failed...)
		inv.rep.Error(relErr.Error())
		if err == nil {
			err = relErr
		}
	default:
		inv.logf("released the apply locks %s", strings.Join(wheres(held), ", "))
		inv.rep.SaveState("lock_id", "")
	}
	for i, h := range held {
		r := reports[i]
		r.Outcome, r.At = report.ApplyApplied, inv.app.Now()
		if err != nil {
			r.Outcome, r.Detail = report.ApplyFailed, err.Error()
		}
		h.inv.reportApply(ctx, "run", r)
	}
	return err
}
