package applylock

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
)

// Step takes one of several apply locks (Take with that stack's Deps and
// Options): timeout is its share of the whole wait (0: no bound).
type Step struct {
	Name string // the production state, for the log
	Take func(ctx context.Context, timeout time.Duration) (Taken, error)
}

// TakeAll takes the locks of steps in the order given, all or nothing:
// when one cannot be taken (an error, the wait timing out, or the commit
// superseded there) those taken before it are given back, in reverse,
// and TakeAll returns nil (with a nil error: superseded). timeout bounds
// the whole wait, not each lock's (0: none). Callers give every job the
// same order (sorted by bucket, then key), so two jobs locking
// overlapping sets never wait on each other in a cycle.
func TakeAll(ctx context.Context, clk clock.Clock, timeout time.Duration, steps []Step, logf func(string, ...any)) ([]Taken, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = clk.Now().Add(timeout)
	}
	var held []Taken
	for _, s := range steps {
		var share time.Duration
		if !deadline.IsZero() {
			share = max(deadline.Sub(clk.Now()), time.Millisecond)
		}
		got, err := s.Take(ctx, share)
		if err == nil && !got.Skipped {
			held = append(held, got)
			continue
		}
		if err == nil {
			logf("this commit is superseded on %s: giving back the %d apply lock(s) taken before it", s.Name, len(held))
		} else if len(held) > 0 {
			logf("could not take the apply lock of %s: giving back the %d taken before it", s.Name, len(held))
		}
		return nil, errors.Join(err, ReleaseAll(ctx, held))
	}
	return held, nil
}

// ReleaseAll stops the heartbeats of held and releases the locks in
// reverse order of taking, each whatever cancelled ctx.
func ReleaseAll(ctx context.Context, held []Taken) error {
	var errs []error
	for _, h := range slices.Backward(held) {
		if h.Keeper != nil {
			h.Keeper.Stop()
		}
		if err := ReleaseNow(ctx, h.Lock); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
