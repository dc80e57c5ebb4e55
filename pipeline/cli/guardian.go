package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
)

// guardianName is the hidden command under which `run` starts itself
// again as the guardian of its command:
//
//	prstate __guardian <lease> <stop-by> <kill-by> -- CMD ARGS...
//
// (times in CLOCK_MONOTONIC nanoseconds, see monoNow).
//
// The guardian is a child subreaper: every process the command starts,
// `setsid`'d and double-forked ones included, stays its descendant. It
// leads the process group the command runs in, starts the command, reaps
// every process of the tree, and exits only once it has no child left
// (wait4 says ECHILD): then no descendant is left, since a process whose
// parent died is handed to its nearest subreaper ancestor before that
// parent is reported. So `run` releases the lock only after the guardian
// exited.
//
// It stops the tree, SIGINT to every descendant, SIGTERM at
// applylock.StopSchedule, SIGKILL at the kill time repeated until none is
// left, when prstate says so (a lost lock, a received signal), when the
// fence's deadline passes without a newer one from prstate (prstate
// frozen or starved), and when prstate is gone (killed: EOF on the
// control pipe, or a new parent). Then the kill time is the last fence
// prstate sent: the tree is gone before the lease can lapse for a waiter.
// The kernel's parent-death signal is not used: it follows the thread
// that started the child, which in Go is any thread; EOF and getppid are
// the process's.
const guardianName = "__guardian"

// Messages on the control pipe (prstate -> guardian, fd 3) and the report
// pipe (guardian -> prstate, fd 4), one per line.
const (
	msgFence = "fence" // fence <stop-by> <kill-by>: the fence's new times
	msgStop  = "stop"  // stop <kill-by>: stop now, SIGKILL by then
	msgPID   = "pid"   // pid <n>: the command started
	msgError = "error" // error <text>: the command did not start
	msgExit  = "exit"  // exit <code> <signal>: the command (the leader) ended
)

// leftoverGrace is how long processes may outlive the command that
// started them before they are stopped (a daemon started by a build, a
// process that still flushes), and leftoverStop how long that stop takes.
const (
	leftoverGrace = 10 * time.Second
	leftoverStop  = 2 * time.Second
)

// stuckAfter is how long processes may outlive SIGKILL before the
// guardian gives up on them: only processes that cannot die
// (uninterruptible sleep) remain; they write nothing more.
const stuckAfter = 10 * time.Second

// guardianPoll is how often the guardian looks at the clock and, while
// stopping, at the process tree.
const guardianPoll = 50 * time.Millisecond

// guardian is the state of one guardian process.
type guardian struct {
	name    string
	log     io.Writer
	report  io.Writer
	lease   time.Duration
	stopBy  int64 // the fence: begin to stop at (monotonic ns)
	killBy  int64 // and SIGKILL by
	leader  int
	reaped  bool  // the leader was reaped
	grace   int64 // the leader ended at this time plus leftoverGrace; 0: not yet
	stop    *stopping
	orphan  bool // prstate is gone
	started int  // our parent's PID when we began
}

// stopping is a stop in progress.
type stopping struct {
	start, kill int64           // SIGINT at start, SIGKILL at kill (kill may move earlier)
	intSent     map[int]bool    // who got SIGINT (once: a second makes Terraform exit at once)
	termSent    map[int]bool    // who got SIGTERM
	logged      map[string]bool // steps already logged
	killedAt    int64           // first SIGKILL
}

// runGuardian is the guardian process (see guardianName). It returns the
// process exit code: 0 once the tree is gone, 1 on a failure.
func runGuardian(args []string, stderr io.Writer) int {
	g, cmdArgs, err := parseGuardian(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "prstate: guardian: %v\n", err)
		return 2
	}
	becomeSubreaper()
	if !isPipe(3) || !isPipe(4) {
		fmt.Fprintln(stderr, "prstate: guardian: no control pipes (prstate run starts it)")
		return 2
	}
	ctl, rep := os.NewFile(3, "control"), os.NewFile(4, "report")
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	g.report = rep
	g.started = os.Getppid()
	// Notify, not Ignore: an ignored signal stays ignored in the command.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// A closed stderr (whoever read prstate's output is gone) must not
	// kill us with SIGPIPE while the tree runs: writes fail instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		g.send(msgError, strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	g.leader = cmd.Process.Pid
	g.send(msgPID, strconv.Itoa(g.leader))

	lines := make(chan string)
	go readLines(ctl, lines)
	type reapedProc struct {
		pid int
		ws  syscall.WaitStatus
	}
	reaped := make(chan reapedProc)
	gone := make(chan struct{})
	go func() {
		// We never call cmd.Wait: this loop reaps every child, the
		// command and the orphans handed to us alike.
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			switch {
			case errors.Is(err, syscall.EINTR):
			case errors.Is(err, syscall.ECHILD):
				close(gone)
				return
			case err == nil:
				reaped <- reapedProc{pid, ws}
			}
		}
	}()
	tick := time.NewTicker(guardianPoll)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				g.prstateGone("its control pipe closed")
				break
			}
			g.handle(line)
		case s := <-sigs:
			g.begin(monoNow()+int64(applylock.StopWindow(g.lease)), fmt.Sprintf("received %v", s))
		case r := <-reaped:
			if r.pid == g.leader {
				g.reaped = true
				code, sig := r.ws.ExitStatus(), 0
				if r.ws.Signaled() {
					code, sig = 128+int(r.ws.Signal()), int(r.ws.Signal())
				}
				g.send(msgExit, strconv.Itoa(code), strconv.Itoa(sig))
				if g.stop == nil {
					g.grace = monoNow() + int64(leftoverGrace)
				}
			}
		case <-gone:
			return 0
		case <-tick.C:
		}
		if g.stuck() {
			return 0
		}
		g.step()
	}
}

// parseGuardian reads the guardian's arguments.
func parseGuardian(args []string, stderr io.Writer) (*guardian, []string, error) {
	if len(args) < 5 || args[3] != "--" {
		return nil, nil, fmt.Errorf("usage: prstate %s <lease> <stop-by> <kill-by> -- CMD ARGS", guardianName)
	}
	lease, err := time.ParseDuration(args[0])
	if err != nil {
		return nil, nil, err
	}
	stopBy, err1 := strconv.ParseInt(args[1], 10, 64)
	killBy, err2 := strconv.ParseInt(args[2], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, err
	}
	return &guardian{name: args[4], log: stderr, lease: lease, stopBy: stopBy, killBy: killBy}, args[4:], nil
}

// isPipe reports whether fd is an open pipe (the runtime may hold fds 3
// and 4 itself when we were not given them).
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

func readLines(r io.Reader, out chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		out <- sc.Text()
	}
	close(out)
}

func (g *guardian) send(fields ...string) {
	_, _ = fmt.Fprintln(g.report, strings.Join(fields, " "))
}

func (g *guardian) logf(format string, args ...any) {
	fmt.Fprintf(g.log, "prstate: "+format+"\n", args...)
}

// handle applies one message from prstate.
func (g *guardian) handle(line string) {
	f := strings.Fields(line)
	num := func(i int) (int64, bool) {
		if i >= len(f) {
			return 0, false
		}
		n, err := strconv.ParseInt(f[i], 10, 64)
		return n, err == nil
	}
	switch {
	case len(f) == 3 && f[0] == msgFence:
		stopBy, ok1 := num(1)
		killBy, ok2 := num(2)
		if ok1 && ok2 {
			g.stopBy, g.killBy = stopBy, killBy
		}
	case len(f) == 2 && f[0] == msgStop:
		if kill, ok := num(1); ok {
			g.begin(kill, "")
		}
	}
}

// prstateGone begins the stop once prstate is gone: nobody renews the
// lock any more, so the tree must be gone by the last fence's kill time.
func (g *guardian) prstateGone(why string) {
	if g.orphan {
		return
	}
	g.orphan = true
	g.begin(g.killBy, "prstate is gone ("+why+")")
}

// begin starts a stop (or moves the kill time of one in progress
// earlier) with SIGKILL by kill, and logs why when why is not empty.
func (g *guardian) begin(kill int64, why string) {
	now := monoNow()
	kill = min(kill, g.killBy)
	if g.stop == nil {
		g.stop = &stopping{start: now, kill: max(kill, now), intSent: map[int]bool{}, termSent: map[int]bool{}, logged: map[string]bool{}}
		if why != "" {
			g.logf("%s: stopping %s: SIGINT to every process now, SIGTERM in %s, SIGKILL in %s", why, g.name, time.Duration(g.stop.termAt()-now).Round(time.Millisecond), time.Duration(g.stop.kill-now).Round(time.Millisecond))
		}
		return
	}
	if kill < g.stop.kill {
		g.stop.kill = max(kill, g.stop.start)
	}
	if why != "" {
		g.logf("%s: %s is already stopping (SIGKILL in %s)", why, g.name, time.Duration(max(g.stop.kill-now, 0)).Round(time.Millisecond))
	}
}

// termAt is when the stop sends SIGTERM (monotonic ns).
func (s *stopping) termAt() int64 {
	return applylock.StopSchedule(time.Unix(0, s.start), time.Unix(0, s.kill)).UnixNano()
}

// step does what the clock asks for: begin a stop at the fence's
// deadline or after the leftovers' grace, and send the stop's signals
// that are due.
func (g *guardian) step() {
	now := monoNow()
	if !g.orphan && os.Getppid() != g.started {
		g.prstateGone("it has a new parent")
	}
	switch {
	case g.stop != nil:
	case now >= g.stopBy:
		g.begin(g.killBy, "no renewal of the apply lock was confirmed by the fence's deadline")
	case g.grace != 0 && now >= g.grace:
		g.begin(now+int64(leftoverStop), fmt.Sprintf("%s ended %s ago and processes it started remain", g.name, leftoverGrace))
	}
	s := g.stop
	if s == nil {
		return
	}
	s.kill = min(s.kill, max(g.killBy, s.start)) // the fence only moves the kill earlier here
	procs := descendants(os.Getpid())
	if len(procs) == 0 && !g.reaped {
		procs = []int{g.leader} // no /proc: the command alone
	}
	g.signal(procs, syscall.SIGINT, s.intSent)
	if now >= s.termAt() {
		g.signal(procs, syscall.SIGTERM, s.termSent)
	}
	if now >= s.kill {
		if s.killedAt == 0 {
			s.killedAt = now
		}
		g.signal(procs, syscall.SIGKILL, nil)
	}
}

// signal sends sig to every process of procs not in sent (all when sent
// is nil) and logs the step once.
func (g *guardian) signal(procs []int, sig syscall.Signal, sent map[int]bool) {
	n := 0
	for _, p := range procs {
		if sent != nil && sent[p] {
			continue
		}
		if syscall.Kill(p, sig) == nil {
			n++
		}
		if sent != nil {
			sent[p] = true
		}
	}
	key := sig.String()
	if n > 0 && !g.stop.logged[key] {
		g.stop.logged[key] = true
		g.logf("sent %s to %d process(es) of %s (%s after the stop began)", signalName(sig), n, g.name, time.Duration(monoNow()-g.stop.start).Round(time.Millisecond))
	}
}

// stuck reports whether processes outlived SIGKILL for stuckAfter: the
// guardian then exits and leaves them to prstate, which goes on.
func (g *guardian) stuck() bool {
	if g.stop == nil || g.stop.killedAt == 0 || monoNow()-g.stop.killedAt < int64(stuckAfter) {
		return false
	}
	n := len(descendants(os.Getpid()))
	g.logf("%d process(es) of %s outlived SIGKILL for %s; going on", n, g.name, stuckAfter)
	return true
}

// signalName is SIGINT, SIGTERM, SIGKILL as people write them.
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return fmt.Sprintf("signal %d (%v)", int(sig), sig)
}
