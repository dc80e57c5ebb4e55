// Package applylock is the apply lock: the lock store (the only door to a
// record, on S3 or DynamoDB), the rules that decide a takeover, the ledger
// of applies and supersede, lock status and force-unlock. See
// ARCHITECTURE.md.
package applylock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/storage"
)

// Defaults of the apply lock protocol.
const (
	DefaultLockPoll   = 500 * time.Millisecond // mean wait ~0.56 s with jitter: < 2 reads/s per waiter
	lockReportEvery   = 15 * time.Second
	runCheckEvery     = 30 * time.Second // GitHub API calls per holder, at most
	releaseAttempts   = 8
	releaseBackoffMax = 2 * time.Second
)

// MinLockLease is the shortest lease of a lock without heartbeats (the
// lock command and its post step). Such a lock cannot stop the job's
// steps when its lease lapses: a waiter then takes it over while the
// job's apply may still run. Its lease must outlast the whole job; this
// floor only refuses leases no Terraform job fits in (a run-mode lease
// such as 30s, copied by mistake).
const MinLockLease = time.Minute

// RunChecker tells whether a GitHub Actions run has completed.
type RunChecker interface {
	RunCompleted(ctx context.Context, repo string, runID int64) (bool, error)
}

// LockOptions tunes an ApplyLock. Zero values take the defaults.
type LockOptions struct {
	// ID is our lock ID ("": a new one). A job that takes the locks of
	// several stacks uses one ID for all of them, so one unlock (or post
	// step) releases them all.
	ID    string
	Lease time.Duration // written into our record; heartbeats renew it
	// Heartbeats says that we renew the lease (Keep) every lease/3; it is
	// written into our record, so waiters know to expect them.
	Heartbeats bool
	// MaxLease is the longest holder lease a waiter honours (0: any).
	MaxLease time.Duration
	// ClockSkew is how far a holder's clock may be off the store's, where
	// a record's age can only be told from the holder's own write time.
	ClockSkew time.Duration
	Timeout   time.Duration // give up waiting after this long, a hard bound (0: wait forever)
	Poll      time.Duration // base poll interval; up to 25% jitter is added
	Runs      RunChecker    // nil: no run-liveness check
	Clock     clock.Clock
	Logf      func(format string, args ...any) // progress while waiting
	Warn      func(msg string)                 // takeovers: a warning annotation
	Who       string                           // LockInfo.Who
	Path      string                           // LockInfo.Path (the state key)
	Links     ci.Links                         // this repository: holders' run URLs are checked against it
	// Waiters, when set, coalesces waiters (waiters.go): this run announces
	// itself, defers to a live newer waiter that contains its commit, and
	// Acquire ends with *SupersededError once such a commit's apply started.
	Waiters *WaiterRegistry
}

// ApplyLock is one process's handle on the apply lock of a production state.
type ApplyLock struct {
	store LockStore
	opts  LockOptions

	mu      sync.Mutex
	rec     Record // ours
	version string // of our record in the store, while held
	held    bool
	// sent is when each write of ours whose outcome is not known yet was
	// sent, by RVN: a read that finds one of them landed confirms it.
	sent   map[string]time.Time
	fence  *fence      // when we must stop trusting the lock
	waited AcquireWait // how the last Acquire went, for reports
}

// AcquireWait is how Acquire got the lock: how long it waited, behind
// whom (zero when the lock was free), and whether it took over.
type AcquireWait struct {
	Waited   time.Duration
	Behind   Holder
	TookOver bool
}

// Wait says how the last successful Acquire went.
func (l *ApplyLock) Wait() AcquireWait {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waited
}

// NewApplyLock prepares to take the lock in store as holder.
func NewApplyLock(store LockStore, holder Holder, opts LockOptions) *ApplyLock {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultLockPoll
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	holder.Lease = opts.Lease.String()
	holder.Heartbeat = ""
	if opts.Heartbeats {
		holder.Heartbeat = heartbeatEvery(opts.Lease).String()
	}
	if opts.ID == "" {
		opts.ID = NewLockID()
	}
	rec := Record{
		LockInfo: LockInfo{ID: opts.ID, Operation: applyLockOperation, Who: opts.Who, Version: "prstate", Path: opts.Path},
		Holder:   holder,
	}
	return &ApplyLock{store: store, opts: opts, rec: rec, sent: map[string]time.Time{}, fence: newFence(opts.Clock, opts.Lease)}
}

// heartbeatEvery is how often a holder renews its lease.
func heartbeatEvery(lease time.Duration) time.Duration { return lease / 3 }

// ID is our lock ID.
func (l *ApplyLock) ID() string { return l.rec.ID }

// Where names the lock record.
func (l *ApplyLock) Where() string { return l.store.Where() }

// ErrLockLost is returned when someone else holds the apply lock we held (it was taken
// over, or force-unlocked and taken again).
var ErrLockLost = errors.New("apply lock lost")

// newRecord encodes our record with a fresh RVN and remembers when it is
// sent (now); the caller holds l.mu and sends it at once.
func (l *ApplyLock) newRecord() (body []byte, sent time.Time) {
	now := l.opts.Clock.Now()
	if !l.held {
		l.rec.Created = now.UTC().Round(0) // when we took it, as far as anyone can tell
	}
	l.rec.Holder.RVN = NewLockID()
	l.rec.Holder.Renewed = now.UTC().Round(0)
	l.sent[l.rec.Holder.RVN] = now
	return l.rec.Marshal(), now
}

// landed records that our write with this RVN (sent at sent) is the
// store's record at version: we hold the lock from sent on.
func (l *ApplyLock) landed(version string, sent time.Time) error {
	clear(l.sent)
	l.version = version
	if !l.held {
		l.held = true
		l.fence.start(sent)
		return nil
	}
	return l.fence.confirm(sent)
}

// sentAt is when our write with this RVN was sent. A write we do not
// remember (cannot happen) counts as sent at since, the earliest moment.
func (l *ApplyLock) sentAt(rvn string, since time.Time) time.Time {
	if t, ok := l.sent[rvn]; ok {
		return t
	}
	return since
}

// Renew is a heartbeat: it writes a new RVN with a conditional replace on
// our version. It fails with ErrLockLost when someone else holds the lock
// now or our fencing deadline has passed; other errors are transient (the
// caller retries before the deadline). Only a write seen to land counts.
func (l *ApplyLock) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return ErrLockLost
	}
	if err := l.fence.check(); err != nil {
		return err
	}
	body, sent := l.newRecord()
	v, err := l.store.Replace(ctx, body, l.version)
	if err == nil {
		return l.landed(v, sent)
	}
	obs, rerr := l.store.Read(ctx)
	switch {
	case rerr == nil:
		rec, perr := ParseRecord(obs.Body)
		switch {
		case perr != nil:
			return l.lost(fmt.Errorf("%w: %s holds an unreadable record", ErrLockLost, l.store.Where()))
		case rec.ID != l.rec.ID:
			return l.lost(fmt.Errorf("%w: %s is now held by %s", ErrLockLost, l.store.Where(), rec.DescribeFor(l.opts.Clock.Now(), l.opts.Links)))
		case obs.Version == l.version:
			// Still our last confirmed record: this write did not land.
		default:
			// A write of ours landed (this one, or an earlier one whose
			// answer was lost): it counts from when it was sent.
			if ferr := l.landed(obs.Version, l.sentAt(rec.Holder.RVN, time.Time{})); ferr != nil || bytes.Equal(obs.Body, body) {
				return ferr
			}
		}
	case errors.Is(rerr, storage.ErrNotFound):
		return l.lost(fmt.Errorf("%w: %s was released or deleted by someone else (force-unlocked?)", ErrLockLost, l.store.Where()))
	}
	return fmt.Errorf("failed to renew the apply lock %s: %w", l.store.Where(), err)
}

// lost marks the lock lost for good and returns err.
func (l *ApplyLock) lost(err error) error {
	l.fence.lose(err)
	return err
}

// Lost is why we no longer hold the lock (nil while we do): someone else
// holds it, or no renewal was confirmed before our fencing deadline.
func (l *ApplyLock) Lost() error { return l.fence.check() }

// ReleaseResult says what Release found.
type ReleaseResult struct {
	Released bool   // we deleted our record
	Holder   string // set when someone else holds it: described
	// Retried: a delete of ours was sent, its answer lost, and the record
	// was gone when we looked again. It was ours to delete only while we
	// still held the lock then.
	Retried bool
}

// Release gives our record up with a conditional write on our version,
// retrying transient errors, and leaves anyone else's record alone. It
// returns an error wrapping ErrLockLost when the lock was lost while we
// held it (someone else holds it, or our fencing deadline passed): that
// is never a clean release, even when our own record could be freed. Any
// sign of another holder is a loss: only our own record, released, is a
// release.
func (l *ApplyLock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return l.fence.check()
	}
	lostErr := l.fence.check()
	res, err := releaseRecord(ctx, l.store, l.rec.ID, l.version, l.opts.Clock, l.fence.stillHeld)
	if err == nil || errors.Is(err, ErrLockLost) {
		l.held = false
	}
	if errors.Is(err, ErrLockLost) {
		return l.lost(err)
	}
	if err != nil {
		return err
	}
	if lostErr != nil {
		return lostErr
	}
	if !res.Released {
		return l.lost(fmt.Errorf("%w: %s was released or deleted by someone else (force-unlocked?)", ErrLockLost, l.store.Where()))
	}
	if res.Retried {
		// Gone on retry: ours only if nobody could have taken it over
		// (and released it) meanwhile, i.e. we are still within the fence.
		if ferr := l.fence.check(); ferr != nil {
			return l.lost(fmt.Errorf("%w: %s was gone when the release was retried after the fencing deadline; someone may have taken it over and released it", ErrLockLost, l.store.Where()))
		}
	}
	return nil
}

// ReleaseByID releases the apply lock in store if its holder is id (the
// unlock command, a process other than the one that took it). Releasing
// a lock that is already gone is not an error.
func ReleaseByID(ctx context.Context, store LockStore, id string, clk clock.Clock) (ReleaseResult, error) {
	if clk == nil {
		clk = clock.Real
	}
	return releaseRecord(ctx, store, id, "", clk, nil)
}

// releaseRecord deletes the record while it belongs to id; version is the
// one we expect ("" to read it first). Another holder's record is never
// touched, and finding one is ErrLockLost, unless it proves that it came
// after a delete of ours (one whose answer was lost): its holder saw id
// hold the lock and then found the lock free (Holder.After), which a
// takeover never records; and, for a holder (held not nil), we were still
// within our fence. Our clock alone is no proof: it may be the one that
// is wrong.
func releaseRecord(ctx context.Context, store LockStore, id, version string, clk clock.Clock, held func() bool) (ReleaseResult, error) {
	var lastErr error
	sentDelete := false
	backoff := 100 * time.Millisecond
	for attempt := 0; attempt < releaseAttempts; attempt++ {
		if attempt > 0 {
			if err := clk.Sleep(ctx, backoff); err != nil {
				break
			}
			backoff = min(2*backoff, releaseBackoffMax)
		}
		if version == "" {
			obs, err := store.Read(ctx)
			if errors.Is(err, storage.ErrNotFound) {
				if sentDelete {
					return ReleaseResult{Released: true, Retried: true}, nil // our delete went through; its answer was lost
				}
				return ReleaseResult{}, nil
			}
			if storage.IsPermanent(err) {
				return ReleaseResult{}, err
			}
			if err != nil {
				lastErr = err
				continue
			}
			rec, perr := ParseRecord(obs.Body)
			if perr != nil || rec.ID != id {
				desc := "an unreadable record"
				if perr == nil {
					desc = rec.Describe(clk.Now())
				}
				if perr == nil && sentDelete && rec.Holder.After == id && (held == nil || held()) {
					return ReleaseResult{Released: true, Retried: true}, nil // freed by our delete, then taken
				}
				return ReleaseResult{Holder: desc}, fmt.Errorf("%w: %s is held by %s, not by lock ID %s: left alone", ErrLockLost, store.Where(), desc, id)
			}
			version = obs.Version
		}
		err := store.Delete(ctx, version)
		sentBefore := sentDelete
		sentDelete = true
		switch {
		case err == nil:
			return ReleaseResult{Released: true}, nil
		case errors.Is(err, storage.ErrNotFound) && sentBefore:
			return ReleaseResult{Released: true, Retried: true}, nil // a retried delete whose first answer was lost
		case errors.Is(err, storage.ErrNotFound):
			return ReleaseResult{}, nil // gone before we deleted it
		case errors.Is(err, storage.ErrPrecondition):
			version = "" // changed or gone: look at who holds it now
		case storage.IsPermanent(err):
			return ReleaseResult{}, err
		default:
			lastErr = err
		}
	}
	return ReleaseResult{}, fmt.Errorf("failed to release the apply lock %s (lock ID %s): %w", store.Where(), id, lastErr)
}
