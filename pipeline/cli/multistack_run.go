package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
)

// runKeeper is what runLocked needs of the lock(s) it runs under: one
// stack's Keeper, or keepers, the Keepers of several stacks at once.
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

// keepers holds the locks of several stacks as one: lost once any of them
// is lost, killed by the earliest kill time.
type keepers struct {
	ks   []*applylock.Keeper
	lost chan struct{}
	done chan struct{}
	once sync.Once
	stop sync.Once
	wg   sync.WaitGroup
}

func newKeepers(held []heldLock) *keepers {
	k := &keepers{lost: make(chan struct{}), done: make(chan struct{})}
	for _, h := range held {
		k.ks = append(k.ks, h.keeper)
		k.wg.Add(1)
		go func(lost <-chan struct{}) {
			defer k.wg.Done()
			select {
			case <-lost:
				k.once.Do(func() { close(k.lost) })
			case <-k.done:
			}
		}(h.keeper.Lost())
	}
	return k
}

// ID is the lock ID the stacks share.
func (k *keepers) ID() string { return k.ks[0].ID() }

// Lost is closed once any lock is lost.
func (k *keepers) Lost() <-chan struct{} { return k.lost }

// Err is why the first lost lock was lost (of those lost, in lock order).
func (k *keepers) Err() error {
	for _, kk := range k.ks {
		if err := kk.Err(); err != nil {
			return err
		}
	}
	return nil
}

// KillBy is the earliest kill time of the locks: the command must be gone
// before any waiter of any of them can take over.
func (k *keepers) KillBy() time.Time {
	t := k.ks[0].KillBy()
	for _, kk := range k.ks[1:] {
		if kt := kk.KillBy(); kt.Before(t) {
			t = kt
		}
	}
	return t
}

// StopBy is the earliest fence deadline of the locks: the guardian starts
// stopping the command then, should we not.
func (k *keepers) StopBy() time.Time {
	t := k.ks[0].StopBy()
	for _, kk := range k.ks[1:] {
		if st := kk.StopBy(); st.Before(t) {
			t = st
		}
	}
	return t
}

// Lease is the shortest lease of the locks: it times the graceful stop.
func (k *keepers) Lease() time.Duration {
	l := k.ks[0].Lease()
	for _, kk := range k.ks[1:] {
		l = min(l, kk.Lease())
	}
	return l
}

// Check checks every lock once more, in lock order.
func (k *keepers) Check(ctx context.Context) error {
	for _, kk := range k.ks {
		if err := kk.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stop ends every lock's heartbeats, in reverse lock order.
func (k *keepers) Stop() {
	k.stop.Do(func() { close(k.done) })
	for _, kk := range slices.Backward(k.ks) {
		kk.Stop()
	}
	k.wg.Wait()
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
	k := newKeepers(held)
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
