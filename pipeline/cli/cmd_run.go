package cli

import (
	"context"
	"errors"
	"fmt"
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

var runCommand = command{
	name:    "run",
	summary: "take the apply lock, run -- CMD ARGS with heartbeats, release on every exit path, exit with CMD's code",
	options: applyLockOptions,
	run:     runRun,
}

// runLease is the default lease under heartbeats (renewed every lease/3).
const runLease = 5 * time.Minute

// lostReleaseTimeout bounds the attempt to free our record after the
// lock was lost (it may still be ours); applylock.ReleaseTimeout bounds
// the release after the command ended, whatever cancelled its context.
const lostReleaseTimeout = 5 * time.Second

// childExit carries the wrapped command's exit code to the process.
type childExit struct {
	code int
	msg  string
}

func (e *childExit) Error() string { return e.msg }
func (e *childExit) ExitCode() int { return e.code }

func runRun(ctx context.Context, inv *invocation) error {
	if len(inv.args) == 0 {
		return &usage.Error{Msg: "run needs a command: prstate run [flags] -- CMD ARGS..."}
	}
	// Our own subscription, next to main's NotifyContext: a signal stops
	// the command the way Terraform expects (runLocked).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	becomeSubreaper()

	held, keeper, err := inv.takeRunLocks(ctx)
	if err != nil || held == nil {
		return err // nil: superseded, the command is skipped, exit 0
	}
	defer keeper.Stop()
	if lease := keeper.Lease(); lease < applylock.GracefulLease {
		inv.rep.Warning(fmt.Sprintf("lease %s leaves %s %s to stop gracefully once the lock is lost (lease/6): Terraform needs that time to let its providers finish their calls in flight and write the state; use a lease of at least %s", lease, inv.args[0], applylock.StopWindow(lease), applylock.GracefulLease))
	}
	reports := make([]report.ApplyReport, len(held))
	for i, h := range held {
		reports[i] = h.inv.lockedReport(h.v, h.l)
	}
	inv.lockOutputs(held[0].l)
	where := strings.Join(wheres(held), ", ")
	if len(held) == 1 {
		inv.logf("holding the apply lock %s (lock ID %s): running %v", where, keeper.ID(), inv.args)
	} else {
		inv.logf("holding %d apply locks (%s; lock ID %s): running %v", len(held), where, keeper.ID(), inv.args)
	}
	runErr := inv.runLocked(ctx, keeper, sigs)
	keeper.Stop()
	err = inv.releaseAfterRun(ctx, held, keeper.Err() != nil, runErr)
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

// releaseAfterRun releases the locks held, in reverse order of taking,
// once the command ended with runErr, and returns the run's error: a lost
// lock (while the command ran, or found at the release) is never a clean
// release, whatever the command did. After a loss the release is only
// tried briefly: the lock is no longer ours to wait for.
func (inv *invocation) releaseAfterRun(ctx context.Context, held []heldLock, lostWhileRunning bool, runErr error) error {
	timeout := applylock.ReleaseTimeout
	if lostWhileRunning {
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
	where := strings.Join(wheres(held), ", ")
	switch {
	case errors.Is(runErr, applylock.ErrLockLost) || len(lost) > 0:
		cause := runErr
		if !errors.Is(cause, applylock.ErrLockLost) {
			cause = errors.Join(lost...)
		}
		inv.rep.SaveState("lock_id", "") // nothing of ours left for the post step
		return &lockLostError{where: where, command: inv.args[0], err: cause}
	case len(failed) > 0:
		relErr := errors.Join(failed...)
		inv.rep.Error(relErr.Error())
		if runErr == nil {
			return relErr
		}
		return runErr
	}
	if len(held) == 1 {
		inv.logf("released the apply lock %s", where)
	} else {
		inv.logf("released the apply locks %s", where)
	}
	inv.rep.SaveState("lock_id", "") // nothing left for the post step
	return runErr
}

// lockLostError ends a run whose lock was lost while its command ran:
// never a clean release, whatever the command did.
type lockLostError struct {
	where, command string
	err            error
}

func (e *lockLostError) Error() string {
	return fmt.Sprintf("lost the apply lock %s while %s ran, another apply may have overlapped: %v", e.where, e.command, e.err)
}

func (e *lockLostError) Unwrap() error { return e.err }

// runLocked runs the command under the lock through its guardian
// (guardian.go), which keeps every process the command starts in its
// tree. A lost lock, or SIGINT or SIGTERM received, stops the tree the
// way Terraform expects: SIGINT to every process first (Terraform's
// graceful stop; provider plugins ignore it and finish their call), then
// SIGTERM, then SIGKILL, timed from the lease (applylock.StopWindow,
// Keeper.KillBy) so that it is over before any waiter may take over. The
// guardian also gets every new fence and stops the tree by itself should
// we be frozen or killed. It returns once no process of the tree is left.
func (inv *invocation) runLocked(ctx context.Context, keeper runKeeper, sigs <-chan os.Signal) error {
	name := inv.args[0]
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to run %s: interrupted before it started: %w", name, err)
	}
	if err := keeper.Check(ctx); err != nil {
		return fmt.Errorf("did not start %s: %w", name, err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("failed to run %s: cannot find prstate itself to guard it: %w", name, err)
	}
	env := append(os.Environ(), "PRSTATE_LOCK_ID="+keeper.ID())
	g, err := startGuarded(self, name, inv.args[1:], env, os.Stdin, inv.app.Stdout, inv.app.Stderr, keeper.Lease(), keeper.StopBy(), keeper.KillBy())
	if err != nil {
		return fmt.Errorf("failed to run %s: %w", name, err)
	}
	tick := time.NewTicker(guardianPoll)
	defer tick.Stop()
	var (
		lostErr  error
		lost     = keeper.Lost()
		stopping bool
	)
	for {
		select {
		case s := <-sigs:
			if stopping {
				inv.logf("received %v: %s is already stopping", s, name)
				break
			}
			stopping = true
			window := applylock.StopWindow(keeper.Lease())
			inv.logf("received %v: stopping %s and every process it started (SIGINT, then SIGTERM, SIGKILL within %s)", s, name, window)
			g.stop(time.Now().Add(window))
		case <-lost:
			lost = nil
			lostErr = keeper.Err()
			stopping = true
			steps := "SIGKILL at once: its time has passed"
			if d := time.Until(keeper.KillBy()); d > 0 {
				steps = fmt.Sprintf("SIGINT, then SIGTERM, SIGKILL within %s", d.Round(time.Millisecond))
			}
			inv.logf("%v: stopping %s and every process it started (%s)", lostErr, name, steps)
			g.stop(keeper.KillBy())
		case <-g.done:
			if lostErr == nil {
				// The guardian stops the tree at the fence's deadline on
				// its own, maybe before our watchdog's next tick.
				lostErr = keeper.Err()
			}
			return inv.guardedEnd(name, g, lostErr)
		case <-tick.C:
			if lostErr == nil {
				g.setFence(keeper.StopBy(), keeper.KillBy())
			}
		}
	}
}

// guardedEnd is how a guarded command ended: the lock lost, or the
// command's own exit. Should the guardian itself have died (killed, out
// of memory), the tree was handed to us, a subreaper too: we kill it.
func (inv *invocation) guardedEnd(name string, g *guarded, lostErr error) error {
	if g.err != nil {
		inv.logf("the guardian of %s ended: %v; killing what is left of %s", name, g.err, name)
		if left := killOrphans(); left > 0 {
			inv.logf("%d process(es) of %s outlived SIGKILL; going on", left, name)
		}
	}
	switch {
	case lostErr != nil:
		return fmt.Errorf("stopped %s: %w", name, lostErr)
	case g.exit == nil:
		return fmt.Errorf("failed to run %s: its guardian ended before it (%v)", name, g.err)
	}
	return exitOf(name, g.exit)
}

// exitOf maps the command's end onto our exit code: its own code, or
// 128+N when signal N killed it (as shells do).
func exitOf(name string, e *commandExit) error {
	switch {
	case e.signal != 0:
		return &childExit{code: 128 + e.signal, msg: fmt.Sprintf("%s killed by %s", name, signalName(syscall.Signal(e.signal)))}
	case e.code != 0:
		return &childExit{code: e.code, msg: fmt.Sprintf("%s exited with code %d", name, e.code)}
	}
	return nil
}
