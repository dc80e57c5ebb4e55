package applylock

import (
	"fmt"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
)

// MinLease is the shortest lease a holder may ask for. The lease is cut
// into a schedule (see killAfter): the margin (lease/3) holds a renewal's
// timeout (lease/6) and the graceful stop (StopWindow, lease/6), and a
// reserve (lease/6) is left between SIGKILL and the earliest takeover. At
// 3 s each of those is 0.5 s: one request to the store, three signal
// steps polled every 50 ms, and the time for SIGKILL to land and for a
// watchdog tick (100 ms) to be late. A shorter lease leaves no room for
// any of them.
const MinLease = 3 * time.Second

// GracefulLease is the shortest lease that leaves a command 10 s to stop
// gracefully (StopWindow) once the lock is lost: Terraform waits for its
// providers' in-flight calls and writes the state in that time. `run`
// warns below it.
const GracefulLease = time.Minute

// fenceMargin is how long before a waiter could take over a holder stops
// its command: a third of the lease.
func fenceMargin(lease time.Duration) time.Duration { return lease / 3 }

// renewTimeout bounds one renewal (its request and the SDK's retries),
// so that a hung request cannot outlive the margin.
func renewTimeout(lease time.Duration) time.Duration { return min(lease/6, 30*time.Second) }

// fence is the holder's own deadline. No waiter takes over within a lease
// of first seeing our last confirmed write, which we sent before it could
// be seen: so we hold the lock until sent + lease. We stop trusting it a
// margin earlier, at sent + lease - margin, and once that passed without a
// newer confirmed write the lock counts as lost for good, whatever answer
// arrives later.
type fence struct {
	mu     sync.Mutex
	clock  clock.Clock
	lease  time.Duration
	sent   time.Time // our last confirmed write was sent then; zero: not held
	lost   error     // sticky
	margin time.Duration
}

func newFence(clk clock.Clock, lease time.Duration) *fence {
	return &fence{clock: clk, lease: lease, margin: fenceMargin(lease)}
}

// start arms the fence with the first confirmed write.
func (f *fence) start(sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent, f.lost = sent, nil
}

// deadline is when the holder stops its command.
func (f *fence) deadline() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deadlineLocked()
}

func (f *fence) deadlineLocked() time.Time { return f.sent.Add(f.lease - f.margin) }

// killBy is when a command still running after the deadline gets SIGKILL:
// StopWindow later, so that it is gone before a waiter's lease ends.
func (f *fence) killBy() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent.Add(killAfter(f.lease))
}

// killAfter is how long after its last confirmed write was sent a holder's
// command is surely gone: the fence's deadline (lease - margin) plus the
// time the stop may take (StopWindow, half a margin). A waiter that
// decides on run liveness waits longer than this (plus a renewal's
// timeout) so that it never starts while the old command may still run.
//
// The schedule after the last confirmed send, for a lease L (300 s, the
// run default; 3 s, the minimum):
//
//	L/3    next heartbeat; each renewal may take renewTimeout (L/6)
//	2L/3   deadline: no renewal confirmed, the lock counts as lost;
//	       SIGINT to every descendant (Terraform's graceful stop)
//	19L/24 SIGTERM to every descendant still there (StopSchedule)
//	5L/6   killAfter: SIGKILL to every descendant, repeated until none is left
//	L      the earliest a waiter may take over (on its own clock, from
//	       after this send): the reserve L/6 covers SIGKILL landing,
//	       the watchdog's tick and a process-tree scan
//
// 200 s, 237.5 s, 250 s and 300 s at the default lease; 2 s, 2.375 s,
// 2.5 s and 3 s at the minimum. The guardian that runs the command
// (cli/guardian.go) enforces the same times on its own, so the stop
// happens even if prstate is frozen or killed.
func killAfter(lease time.Duration) time.Duration {
	return lease - fenceMargin(lease) + StopWindow(lease)
}

// StopWindow is how long a command may take to stop gracefully: from the
// fence's deadline (SIGINT) to SIGKILL, half the margin (lease/6). A
// signal received by `run` gives the command the same time.
func StopWindow(lease time.Duration) time.Duration { return fenceMargin(lease) / 2 }

// StopSchedule returns when a stop that began at start (SIGINT) and must
// end by kill (SIGKILL) sends SIGTERM: three quarters of the way, the
// ratio of GitHub's runner (SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s
// after that). SIGTERM comes late because it ends provider plugins
// mid-call (go-plugin ignores only SIGINT): only what ignored SIGINT
// (a background job of a non-interactive shell) needs it.
func StopSchedule(start, kill time.Time) (term time.Time) {
	if !kill.After(start) {
		return kill
	}
	return start.Add(kill.Sub(start) * 3 / 4)
}

// check returns the loss once the deadline has passed (on the clock, so a
// process resumed after SIGSTOP notices at once), nil before.
func (f *fence) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkLocked()
}

func (f *fence) checkLocked() error {
	if f.lost != nil || f.sent.IsZero() {
		return f.lost
	}
	if now := f.clock.Now(); !now.Before(f.deadlineLocked()) {
		f.lost = fmt.Errorf("%w: no renewal was confirmed for %s (lease %s, margin %s): the lock may have been taken over", ErrLockLost, now.Sub(f.sent).Truncate(time.Millisecond), f.lease, f.margin)
	}
	return f.lost
}

// confirm records that a write we sent at sent landed. It reports the
// loss instead when the deadline passed first.
func (f *fence) confirm(sent time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkLocked(); err != nil {
		return err
	}
	if sent.After(f.sent) {
		f.sent = sent
	}
	return nil
}

// lose marks the lock lost (someone else holds it).
func (f *fence) lose(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost == nil {
		f.lost = err
	}
}

// stillHeld tells whether we hold the lock and are within our deadline.
func (f *fence) stillHeld() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.sent.IsZero() && f.checkLocked() == nil
}
