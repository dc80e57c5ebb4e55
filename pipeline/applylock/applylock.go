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
	"math/rand/v2"
	"strconv"
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

// RunChecker tells whether a GitHub Actions run has completed.
type RunChecker interface {
	RunCompleted(ctx context.Context, repo string, runID int64) (bool, error)
}

// LockOptions tunes an ApplyLock. Zero values take the defaults.
type LockOptions struct {
	Lease   time.Duration // written into our record; heartbeats renew it
	Timeout time.Duration // give up waiting after this long (0: wait forever)
	Poll    time.Duration // base poll interval; up to 25% jitter is added
	Runs    RunChecker    // nil: no run-liveness check
	Clock   clock.Clock
	Logf    func(format string, args ...any) // progress while waiting
	Warn    func(msg string)                 // takeovers: a warning annotation
	Who     string                           // LockInfo.Who
	Path    string                           // LockInfo.Path (the state key)
	Links   ci.Links                         // this repository: holders' run URLs are checked against it
}

// ApplyLock is one process's handle on the apply lock of a production state.
type ApplyLock struct {
	store LockStore
	opts  LockOptions

	mu      sync.Mutex
	rec     ApplyLockRecord // ours
	version string          // of our record in the store, while held
	held    bool
	// written is when we sent our last write that is known to have
	// landed (waiter's clock). No waiter can take over within a lease
	// of it: a waiter times the lease from its own later observation.
	written time.Time
	waited  AcquireWait // how the last Acquire went, for reports
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
	rec := ApplyLockRecord{
		LockInfo: LockInfo{ID: NewLockID(), Operation: applyLockOperation, Who: opts.Who, Version: "prstate", Path: opts.Path},
		Holder:   holder,
	}
	return &ApplyLock{store: store, opts: opts, rec: rec}
}

// ID is our lock ID.
func (l *ApplyLock) ID() string { return l.rec.ID }

// Where names the lock record.
func (l *ApplyLock) Where() string { return l.store.Where() }

// LockTimeoutError ends a wait that lasted --lock-timeout (exit code 3).
type LockTimeoutError struct {
	Where   string
	Waited  time.Duration
	Holder  string // described
	LockID  string
	Problem error // the last storage error, when no holder could be read
}

func (e *LockTimeoutError) ExitCode() int { return 3 }

func (e *LockTimeoutError) Error() string {
	held := "held by " + e.Holder
	if e.Holder == "" {
		held = "unreachable"
		if e.Problem != nil {
			held += " (" + e.Problem.Error() + ")"
		}
	}
	msg := fmt.Sprintf("timed out after %s waiting for the apply lock %s, %s; inspect it with `prstate status`", e.Waited.Truncate(time.Second), e.Where, held)
	if e.LockID != "" {
		msg += fmt.Sprintf("; if its holder is gone, `prstate force-unlock --lock-id %s`", e.LockID)
	}
	return msg
}

// ErrLockLost: someone else holds the apply lock we held (it was taken
// over, or force-unlocked and taken again).
var ErrLockLost = errors.New("apply lock lost")

// record encodes our record with a fresh RVN; the caller holds l.mu.
func (l *ApplyLock) newRecord() []byte {
	now := l.opts.Clock.Now()
	if !l.held {
		l.rec.Created = now.UTC().Round(0) // when we took it, as far as anyone can tell
	}
	l.rec.Holder.RVN = NewLockID()
	l.rec.Holder.Renewed = now.UTC().Round(0)
	return l.rec.Marshal()
}

// Acquire waits for the lock and takes it: a conditional create when it
// is free, a conditional replace on the observed version when the holder
// is dead (DESIGN.md). It reports the holder at least every 15 s and gives
// up with *LockTimeoutError after opts.Timeout.
func (l *ApplyLock) Acquire(ctx context.Context) (err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() {
		if err != nil && ctx.Err() != nil {
			// Interrupted, perhaps while a create of ours was in flight:
			// remove our record if it landed, so it does not sit there
			// for a whole lease.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = releaseRecord(cctx, l.store, l.rec.ID, "", clock.Real, nil)
		}
	}()
	clk := l.opts.Clock
	start := clk.Now()
	var (
		watch      lockWatch
		lastReport time.Time
		holder     ApplyLockRecord
		lastErr    error
		runs       = runLiveness{checker: l.opts.Runs}
	)
	var lastErrLog time.Time
	logErr := func(err error) {
		lastErr = err
		if now := clk.Now(); lastErrLog.IsZero() || now.Sub(lastErrLog) >= lockReportEvery {
			lastErrLog = now
			l.opts.Logf("apply lock %s: %v (retrying)", l.store.Where(), err)
		}
	}
	tryCreate := true
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("failed to acquire the apply lock %s: %w", l.store.Where(), err)
		}
		if tryCreate {
			body := l.newRecord()
			sent := clk.Now()
			v, err := l.store.Create(ctx, body)
			if err == nil {
				l.version, l.held, l.written = v, true, sent
				l.waited = AcquireWait{Waited: clk.Now().Sub(start), Behind: holder.Holder}
				return nil
			}
			if !errors.Is(err, storage.ErrPrecondition) {
				logErr(err)
			}
			// Lost or lost race: the read below tells whether it is ours.
		}
		tryCreate = false
		body, version, err := l.store.Read(ctx)
		now := clk.Now()
		switch {
		case errors.Is(err, storage.ErrNotFound):
			tryCreate = true
			continue // free: create at once
		case err != nil:
			logErr(err)
		default:
			lastErr = nil
			cur, perr := ParseApplyLockRecord(body)
			if perr != nil {
				cur = ApplyLockRecord{LockInfo: LockInfo{ID: "unparsable:" + version}}
			}
			if cur.ID == l.rec.ID {
				// Our create (or takeover) went through and its answer was
				// lost. It landed before this read: time it from the read.
				l.version, l.held, l.written = version, true, now
				l.waited = AcquireWait{Waited: clk.Now().Sub(start), Behind: holder.Holder}
				return nil
			}
			holder = cur
			watch = watch.observe(cur.ID, version, now)
			reason := holderOldAttempt
			if !earlierAttempt(cur.Holder, l.rec.Holder) {
				done := runs.completed(ctx, cur, now, l.opts.Logf)
				reason = decideTakeover(watch, cur.Holder.LeaseDuration(), l.opts.Lease, done, now)
			}
			if reason != keepWaiting {
				nb := l.newRecord()
				v, err := l.store.Replace(ctx, nb, version)
				if err == nil || l.adoptIfOurs(ctx, nb, &v, err) {
					l.version, l.held, l.written = v, true, clk.Now()
					l.waited = AcquireWait{Waited: clk.Now().Sub(start), Behind: cur.Holder, TookOver: true}
					l.opts.Warn(fmt.Sprintf("took over the apply lock %s from %s: %s", l.store.Where(), cur.DescribeFor(clk.Now(), l.opts.Links), reason))
					return nil
				}
				if errors.Is(err, storage.ErrPrecondition) {
					continue // someone changed it first: look again at once
				}
				logErr(err)
			} else if lastReport.IsZero() || now.Sub(lastReport) >= lockReportEvery {
				lastReport = now
				l.opts.Logf("waiting for the apply lock %s: held by %s", l.store.Where(), cur.DescribeFor(clk.Now(), l.opts.Links))
			}
		}
		waited := clk.Now().Sub(start)
		if l.opts.Timeout > 0 && waited >= l.opts.Timeout {
			e := &LockTimeoutError{Where: l.store.Where(), Waited: waited, Problem: lastErr}
			if holder.ID != "" {
				e.Holder, e.LockID = holder.DescribeFor(clk.Now(), l.opts.Links), holder.ID
			}
			return e
		}
		if err := clk.Sleep(ctx, jitter(l.opts.Poll)); err != nil {
			return fmt.Errorf("failed to acquire the apply lock %s: %w", l.store.Where(), err)
		}
	}
}

// adoptIfOurs resolves a failed conditional write whose first answer may
// have been lost (the SDK retried it and the retry lost to itself): when
// the store holds exactly body, the write went through.
func (l *ApplyLock) adoptIfOurs(ctx context.Context, body []byte, version *string, err error) bool {
	if err == nil {
		return true
	}
	cur, v, rerr := l.store.Read(ctx)
	if rerr != nil || !bytes.Equal(cur, body) {
		return false
	}
	*version = v
	return true
}

// jitter returns d plus up to 25%, so waiters do not poll in step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// Renew is a heartbeat: it writes a new RVN with a conditional replace on
// our version. ErrLockLost when someone else holds the lock now; other
// errors are transient (the caller retries before the lease runs out).
func (l *ApplyLock) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return ErrLockLost
	}
	body := l.newRecord()
	sent := l.opts.Clock.Now()
	v, err := l.store.Replace(ctx, body, l.version)
	if err == nil {
		l.version, l.written = v, sent
		return nil
	}
	cur, cv, rerr := l.store.Read(ctx)
	switch {
	case rerr == nil && bytes.Equal(cur, body):
		l.version, l.written = cv, sent // our replace went through; its answer was lost
		return nil
	case rerr == nil:
		if rec, perr := ParseApplyLockRecord(cur); perr == nil && rec.ID == l.rec.ID {
			l.version = cv // still ours (an earlier renew landed late)
			return nil
		} else if perr == nil {
			l.held = false
			return fmt.Errorf("%w: %s is now held by %s", ErrLockLost, l.store.Where(), rec.DescribeFor(l.opts.Clock.Now(), l.opts.Links))
		}
		l.held = false
		return fmt.Errorf("%w: %s holds an unreadable record", ErrLockLost, l.store.Where())
	case errors.Is(rerr, storage.ErrNotFound):
		l.held = false
		return fmt.Errorf("%w: %s was deleted (force-unlocked?)", ErrLockLost, l.store.Where())
	}
	return fmt.Errorf("failed to renew the apply lock %s: %w", l.store.Where(), err)
}

// Heartbeat renews the lease every lease/3 until ctx ends. It sends on
// lost (once) when the lock is lost; transient errors are retried sooner.
func (l *ApplyLock) Heartbeat(ctx context.Context, lost chan<- error) {
	every := l.opts.Lease / 3
	if every <= 0 {
		return
	}
	wait := every
	for {
		if l.opts.Clock.Sleep(ctx, wait) != nil {
			return
		}
		err := l.Renew(ctx)
		switch {
		case err == nil:
			wait = every
		case errors.Is(err, ErrLockLost):
			lost <- err
			return
		case ctx.Err() != nil:
			return
		default:
			l.opts.Logf("heartbeat: %v (retrying)", err)
			wait = min(every, time.Second)
		}
	}
}

// ReleaseResult says what Release found.
type ReleaseResult struct {
	Released bool   // we deleted our record
	Holder   string // set when someone else holds it: described
}

// Release deletes our record with a conditional delete on our version,
// retrying transient errors. When someone else holds it, it returns an
// error wrapping ErrLockLost and leaves their record alone.
func (l *ApplyLock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return nil
	}
	// A delete whose answer was lost and whose retry finds another holder
	// did release: within a lease of our last write nobody can have taken
	// the lock over, so the other holder came after our delete.
	withinLease := func() bool { return l.opts.Clock.Now().Sub(l.written) < l.opts.Lease }
	res, err := releaseRecord(ctx, l.store, l.rec.ID, l.version, l.opts.Clock, withinLease)
	if err == nil || errors.Is(err, ErrLockLost) {
		l.held = false
	}
	if res.Holder != "" && err == nil {
		l.opts.Logf("released the apply lock %s; it is already held by %s", l.store.Where(), res.Holder)
	}
	return err
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
// one we expect ("" to read it first). surelyDeleted, when not nil, tells
// whether a delete we sent that found another holder on retry must have
// gone through.
func releaseRecord(ctx context.Context, store LockStore, id, version string, clk clock.Clock, surelyDeleted func() bool) (ReleaseResult, error) {
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
			body, v, err := store.Read(ctx)
			if errors.Is(err, storage.ErrNotFound) {
				return ReleaseResult{}, nil
			}
			if err != nil {
				lastErr = err
				continue
			}
			rec, perr := ParseApplyLockRecord(body)
			if perr != nil || rec.ID != id {
				desc := "an unreadable record"
				if perr == nil {
					desc = rec.Describe(time.Now())
				}
				if sentDelete && surelyDeleted != nil && surelyDeleted() {
					return ReleaseResult{Released: true, Holder: desc}, nil
				}
				return ReleaseResult{Holder: desc}, fmt.Errorf("%w: %s is held by %s, not by lock ID %s: left alone", ErrLockLost, store.Where(), desc, id)
			}
			version = v
		}
		err := store.Delete(ctx, version)
		sentDelete = true
		switch {
		case err == nil:
			return ReleaseResult{Released: true}, nil
		case errors.Is(err, storage.ErrNotFound):
			return ReleaseResult{Released: true}, nil // a retried delete whose first answer was lost
		case errors.Is(err, storage.ErrPrecondition):
			version = "" // changed or gone: look at who holds it now
		default:
			lastErr = err
		}
	}
	return ReleaseResult{}, fmt.Errorf("failed to release the apply lock %s (lock ID %s): %w", store.Where(), id, lastErr)
}

// runLiveness asks GitHub whether a holder's run completed, at most once
// per runCheckEvery per holder.
type runLiveness struct {
	checker   RunChecker
	holderID  string
	checkedAt time.Time
	done      bool
	warned    bool
}

func (r *runLiveness) completed(ctx context.Context, rec ApplyLockRecord, now time.Time, logf func(string, ...any)) bool {
	if r.checker == nil || rec.Holder.Repository == "" || rec.Holder.RunID == "" {
		return false
	}
	if r.holderID == rec.ID && now.Sub(r.checkedAt) < runCheckEvery {
		return r.done
	}
	r.holderID, r.checkedAt, r.done = rec.ID, now, false
	runID, err := strconv.ParseInt(rec.Holder.RunID, 10, 64)
	if err != nil {
		return false
	}
	done, err := r.checker.RunCompleted(ctx, rec.Holder.Repository, runID)
	if err != nil {
		if !r.warned {
			logf("cannot tell whether run %s of %s is alive (waiting for its lease instead): %v", rec.Holder.RunID, rec.Holder.Repository, err)
			r.warned = true
		}
		return false
	}
	r.done = done
	return done
}
