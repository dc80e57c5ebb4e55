package applylock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/usage"
)

// The apply step (DESIGN.md, "The apply lock" and "Superseded commits"):
// Take waits for the apply lock of one production state, checks this
// run's commit against the ledger under it, records the apply, and hands
// the held lock back; a superseded commit gives the lock back at once.

// ReleaseTimeout bounds a release after the work under the lock ended,
// whatever cancelled it.
const ReleaseTimeout = 30 * time.Second

// Reporter is where Take says what it decided: the superseded output and
// the annotations (report.Reporter is one).
type Reporter interface {
	SetOutput(name, value string)
	Warning(msg string)
	Notice(msg string)
}

// StateReader is the state bucket as Take reads it: the production state,
// before a DynamoDB lock is taken.
type StateReader interface {
	Name() string
	GetObject(ctx context.Context, key string) (storage.Object, error)
}

// Deps are the stores and clients of one Take, built by the caller.
type Deps struct {
	Lock   LockStore // the apply lock (NewS3LockStore, NewDynamoDBLockStore)
	Ledger Ledger    // beside it (NewLedger)
	// Waiters is the waiters record (NewWaitersStore); nil: waiters are
	// not coalesced (coalesce: false).
	Waiters LockStore
	Commits *Commits   // the command's comparer, shared by the waiters and the check under the lock
	Runs    RunChecker // nil: no run-liveness check
	// State is the state bucket, read before a DynamoDB lock is taken,
	// which would not notice a wrong bucket; nil: not read (an S3 lock
	// lives in that bucket).
	State  StateReader
	Clock  clock.Clock
	Report Reporter
	Logf   func(format string, args ...any)
}

// Options are the settings of one Take.
type Options struct {
	Event ci.Event // this run: its commit, run and default branch
	// ID is our lock ID ("": a new one; the stacks of one job share one).
	ID    string
	Lease time.Duration // at least MinLease; without heartbeats, MinLockLease
	// Heartbeats: the lease is renewed every lease/3 from the moment the
	// lock is taken (Taken.Keeper), for run; lock renews nothing.
	Heartbeats    bool
	MaxLease      time.Duration // the longest lease a waiter honours (0: any)
	ClockSkew     time.Duration // how far a holder's clock may be off the store's
	Timeout       time.Duration // lock-timeout, a hard bound on the wait (0: none)
	Poll          time.Duration // between attempts (0: DefaultLockPoll)
	Who           string        // LockInfo.Who
	Path          string        // the production state key
	AllowDiverged bool          // apply a commit that diverged from the ledger's
}

// Taken is how Take went.
type Taken struct {
	// Lock is our handle on the apply lock: held unless Skipped.
	Lock *ApplyLock
	// Keeper renews the held lock (with Options.Heartbeats; nil otherwise).
	Keeper  *Keeper
	Verdict Verdict
	// Skipped: the commit is superseded and the lock is not ours (given
	// back, or never taken when Held is false too: the commit was found
	// superseded while waiting). Exit 0.
	Skipped bool
	// Held: the lock was taken (and, when Skipped, given back).
	Held bool
}

// Take takes the apply lock and checks the commit against the ledger under
// it (CheckSupersede). With heartbeats, they start right after the lock is
// taken. A superseded commit (or a failed check) gives the lock to the next
// job at once; a commit found superseded while waiting never takes it.
func Take(ctx context.Context, d Deps, o Options) (Taken, error) {
	if err := o.validate(); err != nil {
		return Taken{}, err
	}
	d = d.withDefaults()
	l := NewApplyLock(d.Lock, HolderFromEvent(o.Event), LockOptions{
		ID: o.ID, Lease: o.Lease, Heartbeats: o.Heartbeats, MaxLease: o.MaxLease, ClockSkew: o.ClockSkew,
		Timeout: o.Timeout, Poll: o.Poll, Runs: d.Runs, Logf: d.Logf, Warn: d.Report.Warning,
		Who: o.Who, Path: o.Path, Links: o.Event.Links(), Clock: d.Clock,
	})
	if d.State != nil {
		if err := checkState(ctx, d, o); err != nil {
			return Taken{}, err
		}
	}
	if d.Waiters != nil {
		l.Coalesce(NewWaiterRegistry(WaiterRegistryOptions{Store: d.Waiters, Ledger: d.Ledger, Commits: d.Commits, Event: o.Event, Clock: d.Clock, Logf: d.Logf, Notice: d.Report.Notice}))
	}
	if err := l.Acquire(ctx); err != nil {
		var se *SupersededError
		if !errors.As(err, &se) {
			return Taken{}, err
		}
		d.Report.SetOutput("superseded", "true")
		d.Report.Warning(se.Verdict.SupersededMessage())
		return Taken{Lock: l, Verdict: se.Verdict, Skipped: true}, nil
	}
	var keeper *Keeper
	if o.Heartbeats {
		keeper = l.Keep(ctx)
	}
	v, err := CheckSupersede(ctx, l, d, o)
	if err == nil && !v.Superseded {
		return Taken{Lock: l, Keeper: keeper, Verdict: v, Held: true}, nil
	}
	if keeper != nil {
		keeper.Stop()
	}
	if relErr := ReleaseNow(ctx, l); relErr != nil {
		if errors.Is(err, ErrLockLost) && errors.Is(relErr, ErrLockLost) {
			return Taken{Verdict: v}, err // one loss, said once
		}
		return Taken{Verdict: v}, errors.Join(err, relErr)
	}
	if err != nil {
		return Taken{Verdict: v}, err
	}
	return Taken{Lock: l, Verdict: v, Skipped: true, Held: true}, nil
}

// CheckSupersede is Take's check under the apply lock: it compares this
// run's commit with the ledger's; when this commit may go on it records
// it and sets the output superseded=false. When a newer commit already
// started its apply it sets superseded=true and warns naming that commit
// and its run: the caller then releases the lock, skips its command and
// exits 0. A diverged commit (without AllowDiverged) is an error, as is a
// ledger written by someone else meanwhile, or the lock lost before the
// record was written.
func CheckSupersede(ctx context.Context, lock Held, d Deps, o Options) (Verdict, error) {
	d = d.withDefaults()
	v, err := Supersede(ctx, d.Ledger, d.Commits, o.Event, o.AllowDiverged)
	if err != nil {
		return v, err
	}
	if v.Superseded {
		d.Report.SetOutput("superseded", "true")
		d.Report.Warning(v.SupersededMessage())
		return v, nil
	}
	if _, err := RecordApply(ctx, lock, d.Ledger, v, o.Event, d.Clock.Now()); err != nil {
		return v, err
	}
	d.Report.SetOutput("superseded", "false")
	switch {
	case v.Relation == RelationDiverged:
		d.Report.Warning("commit " + ci.ShortSHA(v.Commit) + " diverged from " + ci.ShortSHA(v.Last.SHA) + ", the last commit applied; applying it because allow-diverged is set")
	case v.Commit == "":
		d.Logf("supersede check: no commit SHA (outside CI); nothing compared or recorded")
	case v.Last.SHA == "":
		d.Logf("supersede check: first apply recorded in %s", d.Ledger.Where())
	default:
		d.Logf("supersede check: %s; recorded in %s", relationWords(v), d.Ledger.Where())
	}
	return v, nil
}

// ReleaseNow releases l within ReleaseTimeout, whatever cancelled ctx.
func ReleaseNow(ctx context.Context, l *ApplyLock) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReleaseTimeout)
	defer cancel()
	return l.Release(rctx)
}

// validate refuses a lease the lock cannot keep safely.
func (o Options) validate() error {
	switch {
	case o.Lease < MinLease:
		return &usage.Error{Msg: fmt.Sprintf("invalid lease %s: want at least %s (a renewal must fit in a third of it)", o.Lease, MinLease)}
	case !o.Heartbeats && o.Lease < MinLockLease:
		return &usage.Error{Msg: fmt.Sprintf("invalid lease %s for the lock command: want at least %s; lock renews nothing and cannot stop the job's steps, so its lease must outlast the whole job (default 6h); prstate run renews a short lease with heartbeats", o.Lease, MinLockLease)}
	case o.MaxLease > 0 && o.Lease > o.MaxLease:
		return &usage.Error{Msg: fmt.Sprintf("lease %s is longer than max-lease %s, which waiters honour at most", o.Lease, o.MaxLease)}
	}
	return nil
}

func (d Deps) withDefaults() Deps {
	if d.Clock == nil {
		d.Clock = clock.Real
	}
	if d.Logf == nil {
		d.Logf = func(string, ...any) {}
	}
	if d.Report == nil {
		d.Report = noReport{}
	}
	return d
}

// noReport says nothing.
type noReport struct{}

func (noReport) SetOutput(string, string) {}
func (noReport) Warning(string)           {}
func (noReport) Notice(string)            {}

// checkState makes sure the state bucket is there (and ours to read)
// before a DynamoDB lock is taken: it reads the production state, as the
// apply will (its role allows that; an absent state is fine). It is
// bounded by the lock timeout, as the wait is.
func checkState(ctx context.Context, d Deps, o Options) error {
	start := d.Clock.Now()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	_, err := d.State.GetObject(ctx, o.Path)
	switch {
	case err == nil || errors.Is(err, storage.ErrNotFound):
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &LockTimeoutError{Where: "s3://" + d.State.Name(), Waited: d.Clock.Now().Sub(start), Problem: err}
	}
	return fmt.Errorf("failed to check the state bucket before taking the apply lock: %w", err)
}
