// Package clocktest is a fake clock.Clock for tests; see ARCHITECTURE.md.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Fake advances only when someone sleeps on it.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Fake at 2026-01-01 UTC.
func New() *Fake { return At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }

// At returns a Fake at now.
func At(now time.Time) *Fake { return &Fake{now: now} }

// Advance moves the fake time on by d.
func (c *Fake) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Now is the fake time.
func (c *Fake) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Sleep advances the fake time by d at once, unless ctx is done.
func (c *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}
