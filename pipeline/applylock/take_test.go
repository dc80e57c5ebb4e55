package applylock

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// takeReport records what Take reports.
type takeReport struct {
	mu       sync.Mutex
	outputs  map[string]string
	warnings []string
	notices  []string
}

func (r *takeReport) SetOutput(name, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outputs == nil {
		r.outputs = map[string]string{}
	}
	r.outputs[name] = value
}

func (r *takeReport) Warning(msg string) {
	r.mu.Lock()
	r.warnings = append(r.warnings, msg)
	r.mu.Unlock()
}
func (r *takeReport) Notice(msg string) {
	r.mu.Lock()
	r.notices = append(r.notices, msg)
	r.mu.Unlock()
}

// takeWorld is one production state on memstore (S3 lock, ledger and
// waiters record) with the made-up history of waiters_test.go.
type takeWorld struct {
	bucket *memstore.Bucket
	clk    *clocktest.Fake
	rep    *takeReport
}

func newTakeWorld() takeWorld {
	return takeWorld{bucket: memstore.NewBucket("acme-state"), clk: clocktest.New(), rep: &takeReport{}}
}

func (w takeWorld) lock() LockStore {
	return NewS3LockStore(w.bucket, statekey.ApplyLockKey(waiterKey))
}
func (w takeWorld) ledger() Ledger { return NewLedger(w.bucket, nil, "s3", waiterKey) }

func (w takeWorld) deps(t *testing.T, sources ...Comparer) Deps {
	if len(sources) == 0 {
		sources = []Comparer{history}
	}
	return Deps{
		Lock: w.lock(), Ledger: w.ledger(), Waiters: NewWaitersStore(w.bucket, nil, "s3", waiterKey),
		Commits: NewCommits(sources...), Clock: w.clk, Report: w.rep,
		Logf: func(f string, a ...any) { t.Logf(f, a...) },
	}
}

func takeOptions(sha, run string) Options {
	return Options{
		Event: ci.Event{Kind: ci.KindPush, SHA: sha, Repository: "acme/infra", RunID: run, RunAttempt: "1", DefaultBranch: "main",
			ServerURL: "https://github.com", RunURL: "https://github.com/acme/infra/actions/runs/" + run},
		Lease: time.Hour, Timeout: time.Minute, Path: waiterKey,
	}
}

// record writes sha to the ledger as the last apply started.
func (w takeWorld) record(t *testing.T, sha, run string) {
	t.Helper()
	if _, err := w.ledger().Write(context.Background(), LedgerRecord{}, LedgerEntry{SHA: sha, Run: Run{Repository: "acme/infra", RunID: run, RunURL: "https://github.com/acme/infra/actions/runs/" + run}, Started: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}
}

// holdAs takes the lock as another job's commit sha, on the world's clock.
func (w takeWorld) holdAs(t *testing.T, sha string) *ApplyLock {
	t.Helper()
	l := NewApplyLock(w.lock(), Holder{SHA: sha}, LockOptions{Lease: time.Hour, Clock: w.clk})
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	return l
}

func (w takeWorld) lockFree(t *testing.T) bool {
	t.Helper()
	_, err := w.lock().Read(context.Background())
	return errors.Is(err, storage.ErrNotFound)
}

// TestTakeAcquiresRecordsAndReleases: the lock is free and the ledger
// names an older commit: Take holds the lock, records this commit
// (superseded=false), and hands the lock back for the caller to release.
func TestTakeAcquiresRecordsAndReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTakeWorld()
	w.record(t, shaA, "1")
	got, err := Take(ctx, w.deps(t), takeOptions(shaC, "3"))
	if err != nil || got.Skipped || !got.Held || got.Lock == nil || got.Keeper != nil {
		t.Fatalf("Take: %+v, %v", got, err)
	}
	if got.Verdict.Relation != RelationAhead || got.Verdict.Via != "dag" || w.rep.outputs["superseded"] != "false" {
		t.Fatalf("verdict %+v, outputs %v", got.Verdict, w.rep.outputs)
	}
	if rec, err := w.ledger().Read(ctx); err != nil || rec.Entry.SHA != shaC || rec.Entry.Previous != shaA || rec.Entry.RunID != "3" {
		t.Fatalf("ledger: %+v, %v", rec.Entry, err)
	}
	if w.lockFree(t) {
		t.Fatal("the lock is not held")
	}
	if err := ReleaseNow(ctx, got.Lock); err != nil {
		t.Fatal(err)
	}
	if !w.lockFree(t) {
		t.Fatal("the lock is still held after the release")
	}
}

// TestTakeSkipsASupersededCommit: the ledger names C, whose apply
// started; A (contained in C) takes the lock, finds itself superseded,
// gives the lock back at once and records nothing.
func TestTakeSkipsASupersededCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTakeWorld()
	w.record(t, shaC, "3")
	got, err := Take(ctx, w.deps(t), takeOptions(shaA, "1"))
	if err != nil || !got.Skipped || !got.Held || !got.Verdict.Superseded || got.Verdict.Last.SHA != shaC {
		t.Fatalf("Take: %+v, %v", got, err)
	}
	if w.rep.outputs["superseded"] != "true" || len(w.rep.warnings) != 1 || !strings.Contains(w.rep.warnings[0], ci.ShortSHA(shaC)) || !strings.Contains(w.rep.warnings[0], "/actions/runs/3") {
		t.Fatalf("outputs %v, warnings %q", w.rep.outputs, w.rep.warnings)
	}
	if !w.lockFree(t) {
		t.Fatal("a superseded commit kept the lock")
	}
	if rec, _ := w.ledger().Read(ctx); rec.Entry.SHA != shaC {
		t.Fatalf("ledger: %+v", rec.Entry)
	}
}

// slowSource answers as history does, after the fake clock moved on by
// d: a compare API so slow that the lock is lost before the record.
type slowSource struct {
	dag
	clk *clocktest.Fake
	d   time.Duration
}

func (s slowSource) Compare(ctx context.Context, base, head string) (Relation, error) {
	s.clk.Advance(s.d)
	return s.dag.Compare(ctx, base, head)
}

// TestTakeLockLostBeforeTheRecord: the lock's fence passes while the
// commits are compared: nothing is recorded, the loss is the error, and
// no superseded=false is said.
func TestTakeLockLostBeforeTheRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTakeWorld()
	w.record(t, shaA, "1")
	o := takeOptions(shaC, "3")
	_, err := Take(ctx, w.deps(t, slowSource{dag: history, clk: w.clk, d: o.Lease}), o)
	if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "failed to record the apply") {
		t.Fatalf("Take: %v", err)
	}
	if rec, _ := w.ledger().Read(ctx); rec.Entry.SHA != shaA {
		t.Fatalf("recorded after the lock was lost: %+v", rec.Entry)
	}
	if _, said := w.rep.outputs["superseded"]; said {
		t.Fatalf("outputs %v", w.rep.outputs)
	}
}

// TestTakeRefusesAShortLease: a lease the lock cannot keep is bad input,
// refused before any store is touched.
func TestTakeRefusesAShortLease(t *testing.T) {
	t.Parallel()
	w := newTakeWorld()
	for _, o := range []Options{{Lease: time.Second, Heartbeats: true}, {Lease: 30 * time.Second}, {Lease: 2 * time.Hour, MaxLease: time.Hour}} {
		if _, err := Take(context.Background(), w.deps(t), o); err == nil || !strings.Contains(err.Error(), "lease") {
			t.Fatalf("%+v: %v", o, err)
		}
	}
	if !w.lockFree(t) {
		t.Fatal("a refused Take wrote the lock")
	}
}

// TestTakeWaiterLivenessOnTheInjectedClock: a newer waiter (C, which
// contains A) announced itself and then went silent. On Deps.Clock its
// entry goes stale after its lease, so A contends again and takes the
// lock once its holder leaves. Were liveness timed on another clock, the
// silent entry would look live for the whole (fake) wait and A would
// time out deferring to it.
func TestTakeWaiterLivenessOnTheInjectedClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTakeWorld()
	holder := w.holdAs(t, shaB)
	silent := marshalWaiters([]Waiter{{ID: "silent", SHA: shaC, Run: Run{Repository: "acme/infra", RunID: "3"}, RVN: "r1", Lease: DefaultWaiterLease.String(), Since: w.clk.Now()}})
	if _, err := NewWaitersStore(w.bucket, nil, "s3", waiterKey).Create(ctx, silent); err != nil {
		t.Fatal(err)
	}
	w.clk.When(w.clk.Now().Add(30*time.Second), func() {
		if err := holder.Release(ctx); err != nil {
			t.Error(err)
		}
	})
	o := takeOptions(shaA, "1")
	o.Poll = time.Second
	got, err := Take(ctx, w.deps(t), o)
	if err != nil || got.Skipped || !got.Held {
		t.Fatalf("Take: %+v, %v", got, err)
	}
	if len(w.rep.notices) != 1 || !strings.Contains(w.rep.notices[0], "is contained in commit "+ci.ShortSHA(shaC)) {
		t.Fatalf("did not defer to C first: %q", w.rep.notices)
	}
	if err := ReleaseNow(ctx, got.Lock); err != nil {
		t.Fatal(err)
	}
}

// TestTakeSkipsWhileWaiting: B holds the lock and the ledger says C's
// apply started; A (contained in C) waits, then skips without ever
// taking the lock: superseded=true, nothing recorded.
func TestTakeSkipsWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTakeWorld()
	w.holdAs(t, shaB)
	w.record(t, shaC, "3")
	got, err := Take(ctx, w.deps(t), takeOptions(shaA, "1"))
	if err != nil || !got.Skipped || got.Held || !got.Verdict.Superseded || got.Verdict.Last.SHA != shaC {
		t.Fatalf("Take: %+v, %v", got, err)
	}
	if w.rep.outputs["superseded"] != "true" || len(w.rep.warnings) != 1 || !strings.Contains(w.rep.warnings[0], ci.ShortSHA(shaC)) {
		t.Fatalf("outputs %v, warnings %q", w.rep.outputs, w.rep.warnings)
	}
	if rec, err := w.lock().Read(ctx); err != nil || !strings.Contains(string(rec.Body), shaB) {
		t.Fatalf("the lock is no longer B's: %s, %v", rec.Body, err)
	}
	if rec, _ := w.ledger().Read(ctx); rec.Entry.SHA != shaC {
		t.Fatalf("ledger: %+v", rec.Entry)
	}
}
