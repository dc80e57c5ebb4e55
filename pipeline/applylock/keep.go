package applylock

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Keeper holds the lock after Acquire: heartbeats renew the lease every
// lease/3, each renewal bounded by its own timeout and retried fast when it
// fails, and a watchdog compares the clock with the fencing deadline. Lost
// is closed when the lock is lost: someone else holds it, or no renewal was
// confirmed by the deadline. The watchdog polls the clock instead of
// sleeping until the deadline, so a process resumed after SIGSTOP notices
// at once.
type Keeper struct {
	l      *ApplyLock
	lost   chan struct{}
	once   sync.Once
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Keep starts heartbeats and the watchdog; Stop ends them.
func (l *ApplyLock) Keep(ctx context.Context) *Keeper {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k := &Keeper{l: l, lost: make(chan struct{}), cancel: cancel}
	k.wg.Add(2)
	go func() { defer k.wg.Done(); k.heartbeat(ctx) }()
	go func() { defer k.wg.Done(); k.watch(ctx) }()
	return k
}

// ID is the lock ID we hold.
func (k *Keeper) ID() string { return k.l.ID() }

// Lost is closed once the lock is lost; Err says why.
func (k *Keeper) Lost() <-chan struct{} { return k.lost }

// Err is why the lock was lost, nil while it is held.
func (k *Keeper) Err() error { return k.l.Lost() }

// KillBy is when a command still running after the lock was lost must be
// killed, so that it is gone before any waiter can take over.
func (k *Keeper) KillBy() time.Time { return k.l.fence.killBy() }

// StopBy is when the command must begin to stop unless a renewal is
// confirmed before: the fence's deadline (SIGINT).
func (k *Keeper) StopBy() time.Time { return k.l.fence.deadline() }

// Lease is the lease we hold the lock for.
func (k *Keeper) Lease() time.Duration { return k.l.opts.Lease }

// Stop ends heartbeats and the watchdog, and waits for them.
func (k *Keeper) Stop() {
	k.cancel()
	k.wg.Wait()
}

// Check renews the lease now (the last look before the command starts),
// retrying transient failures until the fencing deadline. It returns the
// loss, or nil when a renewal was confirmed.
func (k *Keeper) Check(ctx context.Context) error {
	for {
		err := k.renew(ctx)
		if err == nil || errors.Is(err, ErrLockLost) {
			return err
		}
		k.l.opts.Logf("checking the apply lock before the command starts: %v (retrying)", err)
		if err := k.l.opts.Clock.Sleep(ctx, retryEvery(k.l.opts.Lease)); err != nil {
			return err
		}
	}
}

func (k *Keeper) signalLost() { k.once.Do(func() { close(k.lost) }) }

// renew is one renewal with its own timeout.
func (k *Keeper) renew(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, renewTimeout(k.l.opts.Lease))
	defer cancel()
	err := k.l.Renew(rctx)
	if errors.Is(err, ErrLockLost) {
		k.signalLost()
	}
	return err
}

// retryEvery is how soon a failed renewal is tried again.
func retryEvery(lease time.Duration) time.Duration {
	return min(time.Second, heartbeatEvery(lease)/4)
}

func (k *Keeper) heartbeat(ctx context.Context) {
	every := heartbeatEvery(k.l.opts.Lease)
	wait := every
	for {
		if k.l.opts.Clock.Sleep(ctx, wait) != nil {
			return
		}
		err := k.renew(ctx)
		switch {
		case err == nil:
			wait = every
		case errors.Is(err, ErrLockLost):
			return
		case ctx.Err() != nil:
			return
		default:
			k.l.opts.Logf("heartbeat: %v (retrying)", err)
			wait = retryEvery(k.l.opts.Lease)
		}
	}
}

// watch checks the fencing deadline against the clock every tick.
func (k *Keeper) watch(ctx context.Context) {
	tick := min(100*time.Millisecond, fenceMargin(k.l.opts.Lease)/10)
	for {
		if k.l.fence.check() != nil {
			k.signalLost()
			return
		}
		if k.l.opts.Clock.Sleep(ctx, tick) != nil {
			return
		}
	}
}
