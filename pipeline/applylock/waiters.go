package applylock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/storage"
)

// Coalescing (DESIGN.md, "Superseded commits"): waiters announce
// themselves in a waiters record beside the lock. A waiter defers (stops
// contending for the lock) while a live waiter of a newer commit that
// contains its own is there, so the newest commit takes the lock when it
// frees; it skips as superseded once the ledger says a containing commit
// started its apply. If the newer waiter goes away first (killed, timed
// out, cancelled), the older ones contend again: nothing is lost.
const (
	// DefaultWaiterLease: a waiter whose RVN did not change for this long
	// (on the observer's clock) is gone. Heartbeats come every lease/4.
	DefaultWaiterLease = 10 * time.Second
	// maxWaiterLease caps the lease a record may claim.
	maxWaiterLease      = time.Minute
	waiterWriteAttempts = 4
	waiterLeaveTimeout  = 5 * time.Second
	// compareRetry is how soon a comparison that failed is asked again.
	compareRetry = 30 * time.Second
)

// WaiterRegistryOptions configures a WaiterRegistry.
type WaiterRegistryOptions struct {
	Store   LockStore // the waiters record (NewWaitersStore)
	Ledger  Ledger    // the ledger beside the lock
	Commits *Commits  // the command's comparer, shared with the check under the lock
	Event   ci.Event  // this run: its commit, run and default branch
	Lease   time.Duration
	Clock   clock.Clock
	Logf    func(format string, args ...any)
	Notice  func(msg string) // deferring to a newer commit: an annotation
}

// WaiterRegistry is the registry of waiters of one apply lock (the
// waiters record) as this run sees it: its own entry, kept alive while it
// waits, and what it reads of the others.
type WaiterRegistry struct {
	o         WaiterRegistryOptions
	me        Waiter
	announced bool      // a write with our entry was sent (it may have landed)
	beat      time.Time // when our last write that landed was sent
	watches   map[string]lockWatch
	said      map[string]bool // log lines already written once
	deferTo   string          // the waiter ID we defer to ("" while contending)
	reported  time.Time       // when Acquire last said whom we defer to
	noticed   bool            // the notice that we defer went out (once)
	off       bool            // the record is out of reach for good
}

// NewWaiterRegistry prepares this run's waiter entry; nil when the event has no
// commit SHA (nothing a newer commit could be compared with).
func NewWaiterRegistry(o WaiterRegistryOptions) *WaiterRegistry {
	if !escape.IsSHA(o.Event.SHA) || o.Store == nil || o.Ledger == nil || o.Commits == nil {
		return nil
	}
	if o.Lease <= 0 {
		o.Lease = DefaultWaiterLease
	}
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Notice == nil {
		o.Notice = func(string) {}
	}
	ev := o.Event
	me := Waiter{ID: NewLockID(), SHA: ev.SHA, Run: RunFromEvent(ev), PR: ev.PR, Lease: o.Lease.String()}
	return &WaiterRegistry{o: o, me: me, watches: map[string]lockWatch{}, said: map[string]bool{}}
}

// Where names the waiters record.
func (q *WaiterRegistry) Where() string { return q.o.Store.Where() }

// SupersededError ends a wait for the apply lock without taking it: while
// this run waited, a newer commit that contains its own started its apply
// (the ledger names it, and it is on the default branch). Exit 0.
type SupersededError struct{ Verdict Verdict }

func (e *SupersededError) Error() string { return e.Verdict.SupersededMessage() }

// registryDecision is what one look at the registry says.
type registryDecision struct {
	skip    *SupersededError
	deferTo *Waiter // a live newer waiter that contains our commit
}

// poll renews our entry when due, reads the others, and decides. Storage
// and comparison errors never stop the wait: without an answer we keep
// contending for the lock, as without coalescing.
func (q *WaiterRegistry) poll(ctx context.Context) registryDecision {
	if v, ok := q.ledgerSkip(ctx); ok {
		return registryDecision{skip: &SupersededError{Verdict: v}}
	}
	if q.off {
		return registryDecision{}
	}
	live, err := q.sync(ctx)
	if err != nil {
		if storage.IsPermanent(err) {
			// A role without the waiters record (an older policy): this
			// run neither announces nor defers, as without coalescing.
			q.off = true
			q.o.Logf("coalescing: %s: %v; waiting for the lock without announcing this run (prstate iam --job apply names the record)", q.Where(), err)
		} else if ctx.Err() == nil {
			q.once("sync", "coalescing: %s: %v (waiting for the lock as usual)", q.Where(), err)
		}
		return registryDecision{}
	}
	w := q.newerLive(ctx, live)
	switch {
	case w == nil && q.deferTo != "":
		q.o.Logf("coalescing: the newer waiter is gone; waiting for the apply lock again")
		q.deferTo = ""
	case w != nil && q.deferTo != w.ID && q.noticed:
		q.deferTo = w.ID // reported by Acquire
	case w != nil && q.deferTo != w.ID:
		q.deferTo, q.noticed = w.ID, true
		q.o.Notice(fmt.Sprintf("commit %s is contained in commit %s, which %s is waiting to apply: this run does not take the apply lock, and skips as superseded once that apply starts (it waits again if that run goes away)",
			ci.ShortSHA(q.me.SHA), ci.ShortSHA(w.SHA), ci.OrWord(q.o.Event.Links().RunText(w.RunURL), "another run")))
	}
	return registryDecision{deferTo: w}
}

// describe names a waiter for people: run and commit, escaped.
func (q *WaiterRegistry) describe(w Waiter) string {
	return ci.OrWord(q.o.Event.Links().RunText(w.RunURL), "an unknown run") + ", commit " + ci.ShortSHA(escape.SHA(w.SHA))
}

func (q *WaiterRegistry) once(key, format string, args ...any) {
	if !q.said[key] {
		q.said[key] = true
		q.o.Logf(format, args...)
	}
}

// read returns the record's waiters and version ("" when absent).
func (q *WaiterRegistry) read(ctx context.Context) ([]Waiter, string, error) {
	obs, err := q.o.Store.Read(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	ws, perr := parseWaiters(obs.Body)
	if perr != nil {
		q.once("parse", "coalescing: %s: %v; rewriting it", q.Where(), perr)
		ws = nil
	}
	return ws, obs.Version, nil
}

// sync reads the record, and writes it back with our entry renewed when
// a heartbeat is due or stale entries are to go (conditionally, on the
// version read). It returns the other live waiters.
func (q *WaiterRegistry) sync(ctx context.Context) ([]Waiter, error) {
	for attempt := 1; ; attempt++ {
		all, version, err := q.read(ctx)
		if err != nil {
			return nil, err
		}
		now := q.o.Clock.Now()
		live, stale := q.observe(all, now)
		if q.announced && now.Sub(q.beat) < q.o.Lease/4 && stale == 0 {
			return live, nil
		}
		me := q.me
		me.RVN, me.Renewed = NewLockID(), now.UTC().Round(0)
		if me.Since.IsZero() {
			me.Since = me.Renewed
		}
		body := marshalWaiters(append(append([]Waiter{}, live...), me))
		q.announced = true
		if version == "" {
			_, err = q.o.Store.Create(ctx, body)
		} else {
			_, err = q.o.Store.Replace(ctx, body, version)
		}
		if err == nil {
			q.me, q.beat = me, now
			return live, nil
		}
		if !errors.Is(err, storage.ErrPrecondition) || attempt >= waiterWriteAttempts {
			return live, fmt.Errorf("failed to announce this run's wait: %w", err)
		}
	}
}

// observe watches each other entry's RVN on our clock: live while it
// changed within its lease. It returns the live ones and how many are
// stale (to be dropped at the next write).
func (q *WaiterRegistry) observe(all []Waiter, now time.Time) (live []Waiter, stale int) {
	seen := map[string]bool{}
	for _, w := range all {
		if w.ID == q.me.ID || w.ID == "" || seen[w.ID] {
			continue
		}
		seen[w.ID] = true
		watch := q.watches[w.ID].observe(w.ID, w.RVN, now)
		q.watches[w.ID] = watch
		lease := w.LeaseDuration()
		if lease <= 0 {
			lease = q.o.Lease
		}
		if now.Sub(watch.since) >= lease {
			stale++
			continue
		}
		live = append(live, w)
	}
	for id := range q.watches {
		if !seen[id] {
			delete(q.watches, id)
		}
	}
	return live, stale
}

// leave removes our entry (we took the lock, skipped, or gave up),
// conditionally on the version read, within bound whatever cancelled ctx.
// Failing that, the entry goes stale within its lease.
func (q *WaiterRegistry) leave(ctx context.Context, bound time.Duration) {
	if !q.announced {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	for attempt := 0; attempt < 2*waiterWriteAttempts; attempt++ {
		if attempt > 0 && clock.Real.Sleep(ctx, 50*time.Millisecond) != nil {
			return
		}
		all, version, err := q.read(ctx)
		if err != nil {
			if storage.IsPermanent(err) {
				return
			}
			continue
		}
		var rest []Waiter
		for _, w := range all {
			if w.ID != q.me.ID {
				rest = append(rest, w)
			}
		}
		if version == "" || len(rest) == len(all) {
			return // not (or no longer) there
		}
		_, err = q.o.Store.Replace(ctx, marshalWaiters(rest), version)
		if err == nil || storage.IsPermanent(err) {
			q.announced = false
			return
		}
	}
}
