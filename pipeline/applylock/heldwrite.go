package applylock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// Held is the apply lock as a write beside it sees it: *ApplyLock.
type Held interface {
	// WriteHeld runs write only while the lock is provably ours.
	WriteHeld(ctx context.Context, what string, write func(ctx context.Context, lock *storage.Check) error) error
}

// WriteHeld runs write (of what, named for messages) only while the lock
// is provably ours (DESIGN.md, "Superseded commits"): the fence is checked
// right before, and the write must end before the fence's deadline. On
// DynamoDB write gets the condition that the lock item still holds our
// record, to send in the same transaction; a failed condition is the lock
// lost. On S3 (lock nil) the lock record is read before the write and
// again after it: a loss found after is reported as a write that may have
// landed after the lock was lost. Every loss wraps ErrLockLost.
//
// It holds the lock's mutex meanwhile, so no heartbeat changes our
// record's version under the condition; the watchdog still runs.
func (l *ApplyLock) WriteHeld(ctx context.Context, what string, write func(ctx context.Context, lock *storage.Check) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return fmt.Errorf("%w: not held: %s not written", ErrLockLost, what)
	}
	if err := l.fence.check(); err != nil {
		return fmt.Errorf("%s not written: %w", what, err)
	}
	// The deadline is on the lock's clock: what is left of it, as a timeout.
	ctx, cancel := context.WithTimeout(ctx, l.fence.deadline().Sub(l.opts.Clock.Now()))
	defer cancel()
	for attempt := 0; ; attempt++ {
		guard := l.store.Guard(l.version)
		if guard == nil {
			if err := l.stillOurs(ctx); err != nil {
				return fmt.Errorf("%s not written: %w", what, err)
			}
		}
		err := write(ctx, guard)
		if errors.Is(err, storage.ErrCheckFailed) {
			// Our record changed: someone else's, or a renewal of ours
			// whose answer was lost. Only ours may be tried again.
			lerr := l.stillOurs(ctx)
			switch {
			case lerr != nil:
				return fmt.Errorf("%s not written: %w", what, lerr)
			case attempt > 0:
				return fmt.Errorf("%s not written: %w", what, l.lost(fmt.Errorf("%w: %s keeps changing under the write", ErrLockLost, l.store.Where())))
			}
			continue
		}
		if guard != nil {
			return l.afterWrite(what, err)
		}
		// S3: read the lock again. A write that may have landed when the
		// lock was no longer ours is a loss, whatever it answered.
		if lerr := l.stillOurs(ctx); errors.Is(lerr, ErrLockLost) {
			return fmt.Errorf("%s was written, or may have been, while the lock was lost; another apply may have overlapped: %w", what, errors.Join(err, lerr))
		} else if lerr != nil {
			return fmt.Errorf("%s: could not check the apply lock after the write: %w", what, errors.Join(err, lerr))
		}
		return l.afterWrite(what, err)
	}
}

// afterWrite is the write's error, or the loss when the fence's deadline
// passed while it was under way (its answer came too late to count).
func (l *ApplyLock) afterWrite(what string, err error) error {
	if ferr := l.fence.check(); ferr != nil {
		return fmt.Errorf("%s may have been written after the fencing deadline; another apply may have overlapped: %w", what, errors.Join(err, ferr))
	}
	return err
}

// stillOurs reads the lock record: nil when it is ours (taking in a
// renewal of ours whose answer was lost), a loss wrapping ErrLockLost when
// it is someone else's or gone, or the read's error.
func (l *ApplyLock) stillOurs(ctx context.Context) error {
	obs, err := l.store.Read(ctx)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return l.lost(fmt.Errorf("%w: %s was released or deleted by someone else (force-unlocked?)", ErrLockLost, l.store.Where()))
	case err != nil:
		if ferr := l.fence.check(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("failed to check the apply lock %s: %w", l.store.Where(), err)
	}
	rec, perr := ParseRecord(obs.Body)
	switch {
	case perr != nil:
		return l.lost(fmt.Errorf("%w: %s holds an unreadable record", ErrLockLost, l.store.Where()))
	case rec.ID != l.rec.ID:
		return l.lost(fmt.Errorf("%w: %s is now held by %s", ErrLockLost, l.store.Where(), rec.DescribeFor(l.opts.Clock.Now(), l.opts.Links)))
	case obs.Version != l.version:
		// A renewal of ours landed whose answer was lost: it counts from
		// when it was sent.
		return l.landed(obs.Version, l.sentAt(rec.Holder.RVN, time.Time{}))
	}
	return nil
}
