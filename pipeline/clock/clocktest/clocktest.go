// Package clocktest is a fake clock.Clock for tests; see ARCHITECTURE.md.
package clocktest

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Fake advances only when someone sleeps on it (or calls Advance).
type Fake struct {
	mu    sync.Mutex
	now   time.Time
	hooks []hook
}

// hook is a function to run once the fake time reaches at.
type hook struct {
	at time.Time
	f  func()
}

// New returns a Fake at 2026-01-01 UTC.
func New() *Fake { return At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }

// At returns a Fake at now.
func At(now time.Time) *Fake { return &Fake{now: now} }

// Now is the fake time.
func (c *Fake) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Sleep advances the fake time by d at once, unless ctx is done. It then
// yields, so that goroutines waiting side by side on one Fake take turns.
func (c *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	runtime.Gosched()
	return nil
}

// Advance moves the fake time on by d, running the functions given to
// When that fall due.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	kept := c.hooks[:0]
	for _, h := range c.hooks {
		if h.at.After(c.now) {
			kept = append(kept, h)
		} else {
			due = append(due, h.f)
		}
	}
	c.hooks = kept
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// When runs f once, in the Sleep or Advance that brings the fake time to
// t or past it: what another process does at that time (release a lock).
func (c *Fake) When(t time.Time, f func()) {
	c.mu.Lock()
	c.hooks = append(c.hooks, hook{at: t, f: f})
	c.mu.Unlock()
}

// Offset is the process's real clock with its wall time off by By (a host
// whose clock is slow or fast). Its monotonic readings, and so every
// duration measured on it, stay true, as on such a host.
type Offset struct{ By time.Duration }

// Now is the real time, its wall reading moved by By.
func (o Offset) Now() time.Time { return time.Now().Add(o.By) }

// Sleep sleeps for real.
func (o Offset) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
