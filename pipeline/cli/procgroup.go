package cli

import (
	"errors"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// procGroup is the wrapped command and every process it starts: they run
// in a process group of their own, so signals reach all of them (`sh -c
// "terraform init && terraform apply"`, `make apply`) and the lock is
// released only once none of them is left.
type procGroup struct {
	cmd  *exec.Cmd
	pgid int
	done chan struct{} // closed when the leader (our direct child) exited
	err  error         // the leader's cmd.Wait, once done is closed
}

// startGroup starts cmd as the leader of a new process group.
func startGroup(cmd *exec.Cmd) (*procGroup, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	dieWithUs(cmd.SysProcAttr)
	g := &procGroup{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The kernel's parent-death signal follows the thread that
		// started the child: keep that thread for the child's life.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		g.err = cmd.Wait()
		close(g.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	g.pgid = cmd.Process.Pid
	return g, nil
}

// signal sends sig to every process of the group.
func (g *procGroup) signal(sig syscall.Signal) {
	_ = syscall.Kill(-g.pgid, sig)
}

// gone tells whether no process of the group is left. It reaps those of
// its members that were reparented to us (we are their subreaper), since
// a zombie still counts as a member.
func (g *procGroup) gone() bool {
	select {
	case <-g.done:
	default:
		return false // the leader runs (and its own wait must reap it)
	}
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-g.pgid, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			break
		}
	}
	return errors.Is(syscall.Kill(-g.pgid, 0), syscall.ESRCH)
}

// groupPoll is how often a group is checked for remaining members.
const groupPoll = 50 * time.Millisecond
