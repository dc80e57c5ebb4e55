// Package clock is the time source of the lock protocol: Real for the
// process, clocktest.Fake for tests. See ARCHITECTURE.md.
package clock

import (
	"context"
	"time"
)

// Clock is the time source of the protocol; tests inject a fake one.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Real is the wall and monotonic clock of the process.
var Real Clock = realClock{}
