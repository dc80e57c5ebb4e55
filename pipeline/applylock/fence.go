package applylock

import (
	"fmt"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
)

// MinLease is the shortest lease a holder may ask for: its margin
// (lease/3) must cover a renewal's timeout (lease/6) and the time to stop
// a command (SIGTERM, then SIGKILL half a margin later).
const MinLease = 3 * time.Second

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
// half a margin later, so that it is gone before a waiter's lease ends.
func (f *fence) killBy() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent.Add(killAfter(f.lease))
}

// killAfter is how long after its last confirmed write was sent a holder's
// command is surely gone: the fence's deadline (lease - margin) plus the
// time the stop may take (half a margin). A waiter that decides on run
// liveness waits longer than this (plus a renewal's timeout) so that it
// never starts while the old command may still run.
func killAfter(lease time.Duration) time.Duration {
	return lease - fenceMargin(lease) + fenceMargin(lease)/2
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
