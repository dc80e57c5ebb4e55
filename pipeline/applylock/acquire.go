package applylock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/storage"
)

// errWaitTimedOut is the cause of the context that bounds a wait by
// LockOptions.Timeout: it tells the timeout from an interruption.
var errWaitTimedOut = errors.New("apply lock wait timed out")

// Acquire waits for the lock and takes it: a conditional create when it
// is free, a conditional replace on the observed version when the holder
// is dead (DESIGN.md). It reports the holder at least every 15 s and gives
// up with *LockTimeoutError after opts.Timeout, a hard bound: requests in
// flight are cut off then. A permanent storage error ends it at once.
func (l *ApplyLock) Acquire(ctx context.Context) (err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := &acquisition{ApplyLock: l, start: l.opts.Clock.Now(), free: true, runs: runLiveness{checker: l.opts.Runs}}
	if l.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, l.opts.Timeout, errWaitTimedOut)
		defer cancel()
	}
	defer func() { a.end(ctx, err) }()
	for {
		switch o, err := a.attempt(ctx); {
		case err != nil:
			return err
		case o == acquired:
			return nil
		case o == retry:
			if err := a.sleep(ctx); err != nil {
				return err
			}
		}
	}
}

// outcome is how one attempt at the lock ended.
type outcome int

const (
	retry    outcome = iota // not ours: look again after a poll
	retryNow                // free, or changed under us: look again at once
	acquired                // ours
)

// acquisition is one Acquire's wait: what it saw of the lock so far.
type acquisition struct {
	*ApplyLock // the lock being acquired; its mutex is held

	start  time.Time // when the wait began
	holder Record    // the last holder seen
	watch  lockWatch // how long that holder's record stood still
	runs   runLiveness
	// free: the lock looked free (or nobody looked yet), so an attempt
	// starts with a create.
	free bool
	// looked: an attempt has been made; from then on each attempt first
	// looks at the registry of waiters (opts.Waiters).
	looked bool

	lastErr    error     // the last storage error, for the timeout
	lastErrLog time.Time // when a storage error was last logged
	lastReport time.Time // when the holder was last reported
}

// attempt is one look at the lock: the registry of waiters, then create (when
// it looked free), read, decide, and replace a dead holder's record.
func (a *acquisition) attempt(ctx context.Context) (outcome, error) {
	if err := a.stop(ctx, nil); err != nil {
		return retry, err
	}
	if deferred, err := a.deferred(ctx); deferred || err != nil {
		return retry, err // a newer waiter takes the lock, not us
	}
	a.looked = true
	if a.free {
		a.free = false
		switch ok, err := a.create(ctx); {
		case err != nil:
			return retry, err
		case ok:
			return acquired, nil
		}
		// Lost or lost race: the read below tells whether it is ours.
	}
	obs, err := a.store.Read(ctx)
	now := a.opts.Clock.Now()
	switch {
	case errors.Is(err, storage.ErrNotFound):
		a.free = true
		// Free after the last holder we saw: our record says so, the
		// proof that holder's retried release needs (releaseRecord).
		a.rec.Holder.After = a.holder.ID
		return retryNow, nil
	case err != nil:
		return a.failed(ctx, err)
	}
	a.lastErr = nil
	cur, perr := ParseRecord(obs.Body)
	if perr != nil {
		cur = Record{LockInfo: LockInfo{ID: "unparsable:" + obs.Version}}
	}
	if cur.ID == a.rec.ID {
		// Our create (or takeover) went through and its answer was lost:
		// we hold it since we sent that write.
		a.waited = AcquireWait{Waited: a.since(), Behind: a.holder.Holder}
		return acquired, a.landed(obs.Version, a.sentAt(cur.Holder.RVN, a.start))
	}
	reason := a.decide(ctx, cur, obs, now)
	if reason == keepWaiting {
		a.report(cur, now)
		return retry, nil
	}
	return a.replace(ctx, cur, obs.Version, reason)
}

// deferred looks at the registry of waiters (opts.Waiters), from the second
// attempt on: true while a newer live waiter contains our commit, so we
// do not contend for the lock; *SupersededError once such a commit's
// apply started.
func (a *acquisition) deferred(ctx context.Context) (bool, error) {
	q := a.opts.Waiters
	if q == nil || !a.looked {
		return false, nil
	}
	if err := a.coalesce(ctx, q, a.start); err != nil {
		return false, err
	}
	return q.deferTo != "", nil
}

// decide watches the holder cur, read at now, and tells whether it is
// dead and why (DESIGN.md "One clock rule", decideTakeover).
func (a *acquisition) decide(ctx context.Context, cur Record, obs Observation, now time.Time) takeoverReason {
	a.holder = cur
	a.watch = a.watch.observe(cur.ID, obs.Version, now)
	return decideTakeover(takeoverInput{
		watch:          a.watch,
		holder:         cur.Holder,
		age:            observedAge(obs, cur.Holder.Renewed, a.opts.ClockSkew),
		fallback:       a.opts.Lease,
		maxLease:       a.opts.MaxLease,
		earlierAttempt: earlierAttempt(cur.Holder, a.rec.Holder),
		runCompleted:   func() bool { return a.runs.completed(ctx, cur, now, a.opts.Logf) },
		now:            now,
	})
}

// create writes our record when the lock looks free; ok when it landed.
func (a *acquisition) create(ctx context.Context) (ok bool, err error) {
	body, sent := a.newRecord()
	v, err := a.store.Create(ctx, body)
	if err == nil {
		a.waited = AcquireWait{Waited: a.since(), Behind: a.holder.Holder}
		return true, a.landed(v, sent)
	}
	if err := a.stop(ctx, err); err != nil {
		return false, err
	}
	if !errors.Is(err, storage.ErrPrecondition) {
		a.logErr(err)
	}
	return false, nil
}

// replace takes the lock over from the dead holder cur: a conditional
// replace on the version we decided on.
func (a *acquisition) replace(ctx context.Context, cur Record, version string, reason takeoverReason) (outcome, error) {
	a.rec.Holder.After = "" // taken over: we did not find it free
	body, sent := a.newRecord()
	v, err := a.store.Replace(ctx, body, version)
	if err == nil || a.adoptIfOurs(ctx, body, &v, err) {
		a.waited = AcquireWait{Waited: a.since(), Behind: cur.Holder, TookOver: true}
		a.opts.Warn(fmt.Sprintf("took over the apply lock %s from %s: %s", a.store.Where(), cur.DescribeFor(a.opts.Clock.Now(), a.opts.Links), reason))
		return acquired, a.landed(v, sent)
	}
	if errors.Is(err, storage.ErrPrecondition) {
		return retryNow, nil // someone changed it first: look again at once
	}
	return a.failed(ctx, err)
}

// adoptIfOurs resolves a failed conditional write whose first answer may
// have been lost (the SDK retried it and the retry lost to itself): when
// the store holds exactly body, the write went through.
func (l *ApplyLock) adoptIfOurs(ctx context.Context, body []byte, version *string, err error) bool {
	if err == nil {
		return true
	}
	obs, rerr := l.store.Read(ctx)
	if rerr != nil || !bytes.Equal(obs.Body, body) {
		return false
	}
	*version = obs.Version
	return true
}

// failed ends the wait on a permanent error, an interruption or the
// timeout; otherwise it logs err and the wait goes on after a poll.
func (a *acquisition) failed(ctx context.Context, err error) (outcome, error) {
	if err := a.stop(ctx, err); err != nil {
		return retry, err
	}
	a.logErr(err)
	return retry, nil
}

// stop ends the wait on a permanent error, an interruption or the
// timeout; nil means go on. err is what the last request returned (nil:
// none).
func (a *acquisition) stop(ctx context.Context, err error) error {
	if err != nil && !errors.Is(err, storage.ErrPrecondition) && (a.lastErr == nil || ctx.Err() == nil) {
		a.lastErr = err // why the store was unreachable, for the timeout
	}
	switch {
	case storage.IsPermanent(err):
		return err
	case ctx.Err() == nil:
		return nil
	case waitTimedOut(ctx):
		return a.timeoutError()
	}
	return fmt.Errorf("failed to acquire the apply lock %s: %w", a.store.Where(), ctx.Err())
}

// waitTimedOut reports whether ctx ended because the wait timed out
// (rather than being interrupted).
func waitTimedOut(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errWaitTimedOut)
}

// logErr remembers a transient storage error and logs it, at most once
// per lockReportEvery.
func (a *acquisition) logErr(err error) {
	a.lastErr = err
	if now := a.opts.Clock.Now(); a.lastErrLog.IsZero() || now.Sub(a.lastErrLog) >= lockReportEvery {
		a.lastErrLog = now
		a.opts.Logf("apply lock %s: %v (retrying)", a.store.Where(), err)
	}
}

// report logs who holds the lock, at most once per lockReportEvery.
func (a *acquisition) report(cur Record, now time.Time) {
	if a.lastReport.IsZero() || now.Sub(a.lastReport) >= lockReportEvery {
		a.lastReport = now
		a.opts.Logf("waiting for the apply lock %s: held by %s", a.store.Where(), cur.DescribeFor(a.opts.Clock.Now(), a.opts.Links))
	}
}

// sleep waits one poll interval, with jitter, never past the timeout.
func (a *acquisition) sleep(ctx context.Context) error {
	pause := jitter(a.opts.Poll)
	if a.opts.Timeout > 0 {
		left := a.opts.Timeout - a.since()
		if left <= 0 {
			return a.timeoutError()
		}
		pause = min(pause, left)
	}
	if err := a.opts.Clock.Sleep(ctx, pause); err != nil {
		return a.stop(ctx, err)
	}
	return nil
}

// since is how long the wait has lasted.
func (a *acquisition) since() time.Duration { return a.opts.Clock.Now().Sub(a.start) }

// timeoutError is the error a wait ends with at its timeout.
func (a *acquisition) timeoutError() error {
	e := &LockTimeoutError{Where: a.store.Where(), Waited: a.since(), Problem: a.lastErr}
	if a.holder.ID != "" {
		e.Holder, e.LockID = a.holder.DescribeFor(a.opts.Clock.Now(), a.opts.Links), a.holder.ID
	}
	return e
}

// end finishes the wait however it ended (err): it leaves the queue of
// waiters and, when the wait was interrupted or timed out (perhaps while a
// create of ours was in flight), removes our record if it landed, so it
// does not sit there for a whole lease. After a timeout both are brief:
// lock-timeout is a hard bound.
func (a *acquisition) end(ctx context.Context, err error) {
	if q := a.opts.Waiters; q != nil {
		q.leave(ctx, afterWait(ctx, waiterLeaveTimeout))
	}
	if err == nil || ctx.Err() == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterWait(ctx, 5*time.Second))
	defer cancel()
	_, _ = releaseRecord(cctx, a.store, a.rec.ID, "", clock.Real, nil)
}

// afterWait bounds a clean-up after the wait: d, or a second once the
// wait timed out.
func afterWait(ctx context.Context, d time.Duration) time.Duration {
	if waitTimedOut(ctx) {
		return time.Second
	}
	return d
}

// jitter returns d plus up to 25%, so waiters do not poll in step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// LockTimeoutError ends a wait that lasted --lock-timeout (exit code 3).
type LockTimeoutError struct {
	Where   string
	Waited  time.Duration
	Holder  string // described
	LockID  string
	Problem error // the last storage error, when no holder could be read
}

// ExitCode is 3: a lock wait timed out.
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
		msg += fmt.Sprintf("; if its holder is gone, `prstate force-unlock --lock-id %s`", escape.Shell(e.LockID))
	}
	return msg
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

func (r *runLiveness) completed(ctx context.Context, rec Record, now time.Time, logf func(string, ...any)) bool {
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
