package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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

// releaseTimeout bounds the release after the command ended, whatever
// cancelled the command's context; lostReleaseTimeout bounds the attempt
// to free our record after the lock was lost (it may still be ours).
const (
	releaseTimeout     = 30 * time.Second
	lostReleaseTimeout = 5 * time.Second
)

// childExit carries the wrapped command's exit code to the process.
type childExit struct {
	code int
	msg  string
}

func (e *childExit) Error() string { return e.msg }
func (e *childExit) ExitCode() int { return e.code }

func runRun(ctx context.Context, inv *invocation) error {
	if len(inv.cfg.Stacks) > 1 {
		return runRunStacks(ctx, inv)
	}
	if len(inv.args) == 0 {
		return &usage.Error{Msg: "run needs a command: prstate run [flags] -- CMD ARGS..."}
	}
	// Our own subscription, next to main's NotifyContext: we must know
	// which signal came, to forward it to the command.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	becomeSubreaper()

	l, keeper, v, err := inv.takeApplyLock(ctx, "run", runLease, true)
	if err != nil || l == nil {
		return err // nil: superseded, the command is skipped, exit 0
	}
	defer keeper.Stop()
	applyReport := inv.lockedReport(v, l)
	inv.lockOutputs(l)
	inv.logf("holding the apply lock %s (lock ID %s): running %v", l.Where(), l.ID(), inv.args)
	runErr := inv.runLocked(ctx, keeper, sigs)
	keeper.Stop()

	timeout := releaseTimeout
	if keeper.Err() != nil {
		timeout = lostReleaseTimeout // best effort: the lock is no longer ours to wait for
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	relErr := l.Release(rctx)
	err = runErr
	switch {
	case errors.Is(runErr, applylock.ErrLockLost) || errors.Is(relErr, applylock.ErrLockLost):
		lost := runErr
		if !errors.Is(lost, applylock.ErrLockLost) {
			lost = relErr
		}
		err = &lockLostError{where: l.Where(), command: inv.args[0], err: lost}
		inv.rep.SaveState("lock_id", "") // nothing of ours left for the post step
	case relErr != nil:
		inv.rep.Error(relErr.Error())
		if err == nil {
			err = relErr
		}
	default:
		inv.logf("released the apply lock %s", l.Where())
		inv.rep.SaveState("lock_id", "") // nothing left for the post step
	}
	applyReport.Outcome, applyReport.At = report.ApplyApplied, inv.app.Now()
	if err != nil {
		applyReport.Outcome, applyReport.Detail = report.ApplyFailed, err.Error()
	}
	inv.reportApply(ctx, "run", applyReport)
	return err
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

// groupGrace is how long the rest of the command's process group may
// outlive its leader before it is killed.
const groupGrace = 10 * time.Second

// lostGrace bounds how long a command may run on after SIGTERM once the
// lock is lost, within the fencing margin.
const lostGrace = 5 * time.Second

// lostKillAt is when a command that lost the lock gets SIGKILL: by the
// fence's kill time, within lostGrace of now, and never in the past.
func lostKillAt(killBy, now time.Time) time.Time {
	switch {
	case killBy.Before(now):
		return now
	case killBy.After(now.Add(lostGrace)):
		return now.Add(lostGrace)
	}
	return killBy
}

// runLocked runs the command under the lock, in a process group of its
// own: SIGINT and SIGTERM are forwarded to the group; losing the lock
// stops the group (SIGTERM, then SIGKILL before any waiter may take
// over); it returns once no process of the group is left.
func (inv *invocation) runLocked(ctx context.Context, keeper runKeeper, sigs <-chan os.Signal) error {
	name := inv.args[0]
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to run %s: interrupted before it started: %w", name, err)
	}
	if err := keeper.Check(ctx); err != nil {
		return fmt.Errorf("did not start %s: %w", name, err)
	}
	cmd := exec.Command(name, inv.args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, inv.app.Stdout, inv.app.Stderr
	cmd.Env = append(os.Environ(), "PRSTATE_LOCK_ID="+keeper.ID())
	g, err := startGroup(cmd)
	if err != nil {
		return fmt.Errorf("failed to run %s: %w", name, err)
	}
	tick := time.NewTicker(groupPoll)
	defer tick.Stop()
	var (
		lostErr        error
		lost           = keeper.Lost()
		leaderDone     = g.done
		killAt, killed time.Time
	)
	for {
		select {
		case s := <-sigs:
			inv.logf("forwarding %v to %s and its process group", s, name)
			g.signal(s.(syscall.Signal))
		case <-lost:
			lost = nil
			lostErr = keeper.Err()
			killAt = lostKillAt(keeper.KillBy(), time.Now())
			inv.logf("%v: stopping %s and its process group", lostErr, name)
			g.signal(syscall.SIGTERM)
		case <-leaderDone:
			leaderDone = nil
			if killAt.IsZero() {
				killAt = time.Now().Add(groupGrace)
			}
		case <-tick.C:
		}
		if leaderDone == nil && g.gone() {
			if lostErr != nil {
				return fmt.Errorf("stopped %s: %w", name, lostErr)
			}
			return exitOf(name, g.err)
		}
		now := time.Now()
		switch {
		case killAt.IsZero() || now.Before(killAt):
		case killed.IsZero():
			killed = now
			inv.logf("killing what is left of %s's process group", name)
			g.signal(syscall.SIGKILL)
		case now.Sub(killed) > groupGrace:
			// Only processes that cannot die (uninterruptible sleep, or
			// zombies nobody reaps) remain: they write nothing more.
			inv.logf("processes of %s's group outlived SIGKILL for %s; going on", name, groupGrace)
			if lostErr != nil {
				return fmt.Errorf("stopped %s: %w", name, lostErr)
			}
			return exitOf(name, g.err)
		}
	}
}

// exitOf maps the command's end onto our exit code: its own code, or
// 128+N when signal N killed it (as shells do).
func exitOf(name string, err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("failed to wait for %s: %w", name, err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &childExit{code: 128 + int(ws.Signal()), msg: fmt.Sprintf("%s killed by %v", name, ws.Signal())}
	}
	return &childExit{code: ee.ExitCode(), msg: fmt.Sprintf("%s exited with code %d", name, ee.ExitCode())}
}
