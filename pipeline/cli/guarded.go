package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// guarded is the command `run` started through its guardian (see
// guardianName), seen from prstate.
type guarded struct {
	guardian *exec.Cmd
	ctl      *os.File      // our end of the control pipe
	pid      int           // the command's PID
	done     chan struct{} // closed when the guardian exited: no process of the tree is left
	err      error         // the guardian's cmd.Wait, once done is closed
	exit     *commandExit  // how the command ended, once the guardian said so
	fence    [2]int64      // the fence the guardian last heard of
}

// commandExit is how the command (the guardian's child) ended.
type commandExit struct{ code, signal int }

// startGuarded starts name args through a guardian: prstate itself again
// (self), as the leader of a new process group. stopBy and killBy are the
// fence's times, lease the lock's lease.
func startGuarded(self string, name string, args []string, env []string, stdin io.Reader, stdout, stderr io.Writer, lease time.Duration, stopBy, killBy time.Time) (*guarded, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, err
	}
	g := &guarded{ctl: ctlW, done: make(chan struct{}), fence: [2]int64{mono(stopBy), mono(killBy)}}
	gargs := append([]string{guardianName, lease.String(), strconv.FormatInt(g.fence[0], 10), strconv.FormatInt(g.fence[1], 10), "--", name}, args...)
	cmd := exec.Command(self, gargs...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = stdin, stdout, stderr, env
	cmd.ExtraFiles = []*os.File{ctlR, repW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A process the guardian gave up on (stuck after SIGKILL) may hold
	// our output open: do not wait on it for ever.
	cmd.WaitDelay = stuckAfter
	err = cmd.Start()
	ctlR.Close()
	repW.Close()
	if err != nil {
		ctlW.Close()
		repR.Close()
		return nil, fmt.Errorf("failed to start its guardian: %w", err)
	}
	g.guardian = cmd
	lines := make(chan string)
	go readLines(repR, lines)
	first, ok := <-lines
	f := strings.Fields(first)
	switch {
	case ok && len(f) == 2 && f[0] == msgPID:
		g.pid, _ = strconv.Atoi(f[1])
	default:
		_ = cmd.Wait()
		ctlW.Close()
		repR.Close()
		if msg, isErr := strings.CutPrefix(first, msgError+" "); isErr {
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("its guardian ended before the command started (%v)", cmd.ProcessState)
	}
	// The report pipe stays open until the guardian exits; read it to
	// the end before done is closed, so exit is known then.
	repDone := make(chan struct{})
	go func() {
		defer close(repDone)
		defer repR.Close()
		for line := range lines {
			if f := strings.Fields(line); len(f) == 3 && f[0] == msgExit {
				code, _ := strconv.Atoi(f[1])
				sig, _ := strconv.Atoi(f[2])
				g.exit = &commandExit{code, sig}
			}
		}
	}()
	go func() {
		g.err = cmd.Wait()
		<-repDone
		ctlW.Close()
		close(g.done)
	}()
	return g, nil
}

// mono converts t (read on the process's monotonic clock) to the
// machine's CLOCK_MONOTONIC nanoseconds the guardian reads.
func mono(t time.Time) int64 { return monoNow() + int64(time.Until(t)) }

// setFence tells the guardian the fence's new times (when they changed).
func (g *guarded) setFence(stopBy, killBy time.Time) {
	f := [2]int64{mono(stopBy), mono(killBy)}
	// mono drifts by the time between its two readings: tell only of a
	// real change (a confirmed renewal moves the fence by lease/3).
	if abs(f[0]-g.fence[0]) < int64(time.Millisecond) {
		return
	}
	g.fence = f
	_, _ = fmt.Fprintf(g.ctl, "%s %d %d\n", msgFence, f[0], f[1])
}

// stop has the guardian stop the command: SIGINT now, SIGKILL by kill.
func (g *guarded) stop(kill time.Time) {
	_, _ = fmt.Fprintf(g.ctl, "%s %d\n", msgStop, mono(kill))
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// killOrphans is the last resort when the guardian itself died (killed,
// out of memory): the tree was handed to us (prstate is a subreaper too),
// so we kill every descendant and reap our children until none is left,
// for at most stuckAfter.
func killOrphans() (left int) {
	deadline := time.Now().Add(stuckAfter)
	for {
		procs := descendants(os.Getpid())
		for _, p := range procs {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		if len(procs) == 0 || time.Now().After(deadline) {
			return len(procs)
		}
		time.Sleep(guardianPoll)
	}
}
