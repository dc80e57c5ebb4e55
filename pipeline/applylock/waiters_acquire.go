package applylock

import (
	"context"
	"time"
)

// coalesce is Acquire's look at the registry of waiters, once per poll after the first
// attempt: it returns *SupersededError when a containing commit's apply
// started, and leaves q.deferTo set while a newer live waiter contains
// our commit (we do not contend for the lock then), reporting it at least
// every lockReportEvery.
func (l *ApplyLock) coalesce(ctx context.Context, q *WaiterRegistry, start time.Time) error {
	was := q.deferTo
	d := q.poll(ctx)
	now := l.opts.Clock.Now()
	if d.skip != nil {
		l.waited = AcquireWait{Waited: now.Sub(start)}
		return d.skip
	}
	if d.deferTo == nil {
		q.reported = time.Time{}
		return nil
	}
	if was != d.deferTo.ID || q.reported.IsZero() || now.Sub(q.reported) >= lockReportEvery {
		q.reported = now
		l.opts.Logf("waiting for the apply lock %s behind the waiting %s, whose commit contains this one", l.store.Where(), q.describe(*d.deferTo))
	}
	return nil
}

// Coalesce makes Acquire coalesce waiters through q (nil: it does not).
func (l *ApplyLock) Coalesce(q *WaiterRegistry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.Waiters = q
}
