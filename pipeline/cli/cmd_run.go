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
// cancelled the command's context.
const releaseTimeout = 30 * time.Second

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
	// Our own subscription, next to main's NotifyContext: we must know
	// which signal came, to forward it to the command.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	l, v, err := inv.takeApplyLock(ctx, "run", runLease)
	if err != nil || l == nil {
		return err // nil: superseded, the command is skipped, exit 0
	}
	applyReport := inv.lockedReport(v, l)
	inv.lockOutputs(l)
	inv.logf("holding the apply lock %s (lock ID %s): running %v", l.Where(), l.ID(), inv.args)
	runErr := inv.runLocked(ctx, l, sigs)
	applyReport.Outcome, applyReport.At = report.ApplyApplied, inv.app.Now()
	if runErr != nil {
		applyReport.Outcome, applyReport.Detail = report.ApplyFailed, runErr.Error()
	}
	defer inv.reportApply(ctx, "run", applyReport)

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	relErr := l.Release(rctx)
	switch {
	case errors.Is(relErr, applylock.ErrLockLost):
		inv.rep.Error(fmt.Sprintf("the apply lock was taken over while we held it: %v", relErr))
	case relErr != nil:
		inv.rep.Error(relErr.Error())
	default:
		inv.logf("released the apply lock %s", l.Where())
		inv.rep.SaveState("lock_id", "") // nothing left for the post step
	}
	if runErr != nil {
		return runErr
	}
	return relErr
}

// runLocked runs the command under the lock: heartbeats renew the lease,
// SIGINT and SIGTERM are forwarded, and losing the lock stops the command.
func (inv *invocation) runLocked(ctx context.Context, l *applylock.ApplyLock, sigs <-chan os.Signal) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to run %s: interrupted before it started: %w", inv.args[0], err)
	}
	cmd := exec.Command(inv.args[0], inv.args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, inv.app.Stdout, inv.app.Stderr
	cmd.Env = append(os.Environ(), "PRSTATE_LOCK_ID="+l.ID())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to run %s: %w", inv.args[0], err)
	}
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHeartbeat()
	lost := make(chan error, 1)
	go l.Heartbeat(hbCtx, lost)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var lostErr error
	for {
		select {
		case s := <-sigs:
			inv.logf("forwarding %v to %s", s, inv.args[0])
			_ = cmd.Process.Signal(s)
		case err := <-lost:
			// Another job holds the lock now: stop, do not race it.
			lostErr = err
			inv.rep.Error(fmt.Sprintf("%v: stopping %s", err, inv.args[0]))
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case err := <-done:
			stopHeartbeat()
			if lostErr != nil {
				return lostErr
			}
			return exitOf(inv.args[0], err)
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
