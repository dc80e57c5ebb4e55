package applylock

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

type fakeRuns struct {
	completed map[string]bool
	calls     atomic.Int64
}

func (f *fakeRuns) RunCompleted(_ context.Context, repo string, runID int64) (bool, error) {
	f.calls.Add(1)
	return f.completed[repo+"/"+time.Duration(runID).String()], nil
}

func newMemLock(b *memstore.Bucket, h Holder, o LockOptions) *ApplyLock {
	return NewApplyLock(NewS3LockStore(b, statekey.ApplyLockKey("app/terraform.tfstate")), h, o)
}

func TestAcquireFreeAndRelease(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme")
	l := newMemLock(b, Holder{Run: Run{RunID: "1"}}, LockOptions{Lease: time.Minute, Clock: clocktest.New()})
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	obj, err := b.GetObject(t.Context(), "app/terraform.tfstate.prstate-apply.lock")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := ParseRecord(obj.Body)
	if rec.ID != l.ID() || rec.Holder.Lease != "1m0s" || rec.Holder.RVN == "" || rec.Operation != "prstate-apply" {
		t.Fatalf("record %+v", rec)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if obj, err := b.GetObject(t.Context(), "app/terraform.tfstate.prstate-apply.lock"); err != nil || !IsReleasedRecord(obj.Body) {
		t.Fatalf("lock not released: %s, %v", obj.Body, err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatalf("second release: %v", err)
	}
}

// TestTakeoverAfterLease: a holder that stops heartbeating is taken over
// after one lease on the waiter's clock, not before, and heartbeats keep
// a live holder safe for as long as they come.
func TestTakeoverAfterLease(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme")
	clk := clocktest.New()
	holder := newMemLock(b, Holder{Run: Run{RunID: "1"}}, LockOptions{Lease: 10 * time.Second, Clock: clk})
	if err := holder.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	var warned []string
	waiterClock := &heartbeatingClock{Fake: clk, every: 3 * time.Second, holder: holder, until: clk.Now().Add(time.Minute)}
	w := newMemLock(b, Holder{Run: Run{RunID: "2"}}, LockOptions{Lease: 10 * time.Second, Poll: 500 * time.Millisecond, Clock: waiterClock, Warn: func(m string) { warned = append(warned, m) }})
	start := clk.Now()
	if err := w.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The holder renewed until about +60s; the waiter must wait a whole
	// lease after the last renewal it saw, and at most one poll more.
	got, last := clk.Now().Sub(start), waiterClock.last.Sub(start)
	if last < 55*time.Second || got < last+10*time.Second || got > last+10*time.Second+625*time.Millisecond {
		t.Fatalf("took over at +%s, last heartbeat at +%s, lease 10s, poll 0.5-0.625s", got, last)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "lease lapsed") || !strings.Contains(warned[0], holder.ID()) {
		t.Fatalf("warnings %q", warned)
	}
	if err := holder.Renew(t.Context()); !errors.Is(err, ErrLockLost) {
		t.Fatalf("old holder renew: %v, want ErrLockLost", err)
	}
	if err := holder.Release(t.Context()); !errors.Is(err, ErrLockLost) {
		t.Fatalf("old holder release after loss: %v, want ErrLockLost (lost, never released)", err)
	}
	obj, err := b.GetObject(t.Context(), "app/terraform.tfstate.prstate-apply.lock")
	if rec, _ := ParseRecord(obj.Body); err != nil || rec.ID != w.ID() {
		t.Fatalf("lock should be the waiter's: %v", err)
	}
}

// heartbeatingClock renews holder every `every` of fake time until `until`,
// as a live holder's heartbeat goroutine would.
type heartbeatingClock struct {
	*clocktest.Fake
	every  time.Duration
	holder *ApplyLock
	until  time.Time
	last   time.Time
}

func (c *heartbeatingClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := c.Fake.Sleep(ctx, d); err != nil {
		return err
	}
	now := c.Now()
	if c.last.IsZero() {
		c.last = now
	}
	if now.Before(c.until) && now.Sub(c.last) >= c.every {
		c.last = now
		if err := c.holder.Renew(ctx); err != nil {
			return err
		}
	}
	return nil
}

func TestTakeoverWhenRunCompleted(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme")
	clk := clocktest.New()
	holder := newMemLock(b, Holder{Run: Run{Repository: "acme/infra", RunID: "77"}}, LockOptions{Lease: 6 * time.Hour, Clock: clk})
	if err := holder.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	runs := &fakeRuns{completed: map[string]bool{"acme/infra/" + time.Duration(77).String(): true}}
	var warned string
	w := newMemLock(b, Holder{Run: Run{RunID: "78"}}, LockOptions{Lease: time.Hour, Runs: runs, Clock: clk, Warn: func(m string) { warned = m }})
	start := clk.Now()
	if err := w.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := clk.Now().Sub(start); d != 0 || !strings.Contains(warned, "run has completed") || runs.calls.Load() != 1 {
		t.Fatalf("after %s, %d calls, warning %q", d, runs.calls.Load(), warned)
	}
}

func TestLiveRunIsNotTakenOverAndTimesOut(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme")
	clk := clocktest.New()
	holder := newMemLock(b, Holder{Run: Run{Repository: "acme/infra", RunID: "77", RunURL: "https://github.com/acme/infra/actions/runs/77"}, SHA: "0123456789abcdef0123456789abcdef01234567"}, LockOptions{Lease: 6 * time.Hour, Clock: clk})
	if err := holder.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	runs := &fakeRuns{completed: map[string]bool{}}
	var logs []string
	w := newMemLock(b, Holder{}, LockOptions{Lease: time.Hour, Timeout: 2 * time.Minute, Runs: runs, Clock: clk, Logf: func(f string, a ...any) { logs = append(logs, f) }})
	b.ResetCalls()
	err := w.Acquire(t.Context())
	var te *LockTimeoutError
	if !errors.As(err, &te) || te.ExitCode() != 3 || te.LockID != holder.ID() {
		t.Fatalf("got %v, want a timeout naming the holder", err)
	}
	for _, want := range []string{"prstate status", "prstate force-unlock --lock-id '" + holder.ID() + "'", "actions/runs/77", "commit 0123456,"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("timeout message lacks %q: %s", want, err)
		}
	}
	// One report at once, then every 15 s: 2 minutes -> 8 or 9 lines.
	if n := len(logs); n < 8 || n > 9 {
		t.Errorf("%d progress reports in 2 minutes, want 8-9", n)
	}
	// GitHub is asked at most every 30 s.
	if n := runs.calls.Load(); n < 4 || n > 5 {
		t.Errorf("%d GitHub calls in 2 minutes, want 4-5", n)
	}
	// Reads per second of waiting stay at or under 2.
	if reads := b.Calls()["GetObject"]; float64(reads)/120 > 2.0 || reads < 120*4/5/1 {
		t.Errorf("%d reads in 120 s", reads)
	}
}

// lossyStore applies writes but reports an error for the first n of them,
// like a response lost on the way back.
type lossyStore struct {
	LockStore
	lose atomic.Int64
}

var errLost = errors.New("connection reset (response lost)")

func (s *lossyStore) Create(ctx context.Context, body []byte) (string, error) {
	v, err := s.LockStore.Create(ctx, body)
	if err == nil && s.lose.Add(-1) >= 0 {
		return "", errLost
	}
	return v, err
}

func (s *lossyStore) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	v, err := s.LockStore.Replace(ctx, body, expected)
	if err == nil && s.lose.Add(-1) >= 0 {
		return "", errLost
	}
	return v, err
}

func (s *lossyStore) Delete(ctx context.Context, expected string) error {
	err := s.LockStore.Delete(ctx, expected)
	if err == nil && s.lose.Add(-1) >= 0 {
		return errLost
	}
	return err
}

// memLockStore is an in-memory apply lock store: "s3" an object in a
// bucket, "dynamodb" an item in a table.
func memLockStore(name string) LockStore {
	if name == "s3" {
		return NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")
	}
	return NewDynamoDBLockStore(memstore.NewTable("locks"), "acme/k.prstate-apply")
}

func TestLostResponsesAreRecognised(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"s3", "dynamodb"} {
		base := memLockStore(name)
		s := &lossyStore{LockStore: base}
		clk := clocktest.New()
		l := NewApplyLock(s, Holder{}, LockOptions{Lease: time.Minute, Timeout: time.Minute, Clock: clk})
		s.lose.Store(1)
		if err := l.Acquire(t.Context()); err != nil {
			t.Fatalf("%s: acquire after a lost create: %v", name, err)
		}
		s.lose.Store(1)
		if err := l.Renew(t.Context()); err != nil {
			t.Fatalf("%s: renew after a lost replace: %v", name, err)
		}
		if err := l.Renew(t.Context()); err != nil {
			t.Fatalf("%s: renew after that: %v", name, err)
		}
		s.lose.Store(1)
		if err := l.Release(t.Context()); err != nil {
			t.Fatalf("%s: release after a lost delete: %v", name, err)
		}
		if _, err := base.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("%s: lock left behind: %v", name, err)
		}
	}
}

func TestReleaseByIDLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme")
	store := NewS3LockStore(b, "k.prstate-apply.lock")
	l := NewApplyLock(store, Holder{}, LockOptions{Lease: time.Minute})
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := ReleaseByID(t.Context(), store, "someone-else", nil)
	if !errors.Is(err, ErrLockLost) || res.Released || !strings.Contains(res.Holder, l.ID()) {
		t.Fatalf("release of another ID: %+v, %v", res, err)
	}
	if res, err := ReleaseByID(t.Context(), store, l.ID(), nil); err != nil || !res.Released {
		t.Fatalf("release by own ID: %+v, %v", res, err)
	}
	if res, err := ReleaseByID(t.Context(), store, l.ID(), nil); err != nil || res.Released {
		t.Fatalf("idempotent release: %+v, %v", res, err)
	}
}

// TestMutualExclusionInMemory: goroutines contend on real time with a
// short poll; the critical section detects overlap.
func TestMutualExclusionInMemory(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"s3", "dynamodb"} {
		var store LockStore
		if name == "s3" {
			store = NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")
		} else {
			store = NewDynamoDBLockStore(memstore.NewTable("locks"), "acme/k.prstate-apply")
		}
		var inside, overlaps, total atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					l := NewApplyLock(store, Holder{}, LockOptions{Lease: time.Minute, Poll: time.Millisecond})
					if err := l.Acquire(t.Context()); err != nil {
						t.Error(err)
						return
					}
					if inside.Add(1) != 1 {
						overlaps.Add(1)
					}
					total.Add(1)
					time.Sleep(100 * time.Microsecond)
					inside.Add(-1)
					if err := l.Release(t.Context()); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if overlaps.Load() != 0 || total.Load() != 160 {
			t.Fatalf("%s: %d overlaps in %d critical sections", name, overlaps.Load(), total.Load())
		}
	}
}

// grabAfterDelete applies our delete, lets someone else take the free
// lock, and loses the delete's answer.
type grabAfterDelete struct {
	LockStore
	other *ApplyLock
}

func (s *grabAfterDelete) Delete(ctx context.Context, expected string) error {
	if err := s.LockStore.Delete(ctx, expected); err != nil {
		return err
	}
	if err := s.other.Acquire(ctx); err != nil {
		return err
	}
	return errLost
}

// TestAnotherHolderAtReleaseIsALoss: our delete landed, someone took the
// free lock, and the delete's answer was lost: the retry finds another
// holder. Nothing proves our delete came first, so it is reported as a
// lost lock (may have overlapped), never as released, and the other
// holder's record stays.
func TestAnotherHolderAtReleaseIsALoss(t *testing.T) {
	t.Parallel()
	base := NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")
	other := NewApplyLock(base, Holder{}, LockOptions{Lease: time.Minute})
	l := NewApplyLock(&grabAfterDelete{LockStore: base, other: other}, Holder{}, LockOptions{Lease: time.Minute})
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(t.Context()); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), other.ID()) {
		t.Fatalf("release that found another holder: %v", err)
	}
	obs, err := base.Read(t.Context())
	if rec, _ := ParseRecord(obs.Body); err != nil || rec.ID != other.ID() {
		t.Fatalf("the other holder's lock must stay: %v", err)
	}
}

// waitAfterDelete applies our delete, waits until a waiter that watched
// us has taken the free lock, and loses the delete's answer.
type waitAfterDelete struct {
	LockStore
	taken <-chan error
}

func (s *waitAfterDelete) Delete(ctx context.Context, expected string) error {
	if err := s.LockStore.Delete(ctx, expected); err != nil {
		return err
	}
	if err := <-s.taken; err != nil {
		return err
	}
	return errLost
}

// seeingStore closes saw once a Read returned the record of lock id.
type seeingStore struct {
	LockStore
	id   string
	saw  chan struct{}
	once sync.Once
}

func (s *seeingStore) Read(ctx context.Context) (Observation, error) {
	obs, err := s.LockStore.Read(ctx)
	if rec, perr := ParseRecord(obs.Body); err == nil && perr == nil && rec.ID == s.id {
		s.once.Do(func() { close(s.saw) })
	}
	return obs, err
}

// TestSuccessorThatFoundTheLockFreeProvesTheRelease: the retry of a
// release whose answer was lost finds a waiter's record, but the waiter
// saw us hold the lock and then found it free (Holder.After): our delete
// came first, no takeover happened, and that is a release. A record
// without that proof is a loss (TestAnotherHolderAtReleaseIsALoss).
func TestSuccessorThatFoundTheLockFreeProvesTheRelease(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"s3", "dynamodb"} {
		base := memLockStore(name)
		taken := make(chan error, 1)
		l := NewApplyLock(&waitAfterDelete{LockStore: base, taken: taken}, Holder{}, LockOptions{Lease: time.Minute})
		if err := l.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		saw := make(chan struct{})
		w := NewApplyLock(&seeingStore{LockStore: base, id: l.ID(), saw: saw}, Holder{}, LockOptions{Lease: time.Minute, Poll: time.Millisecond})
		go func() { taken <- w.Acquire(t.Context()) }()
		select { // the waiter watches us
		case <-saw:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the waiter never read the holder's record", name)
		}
		if err := l.Release(t.Context()); err != nil {
			t.Fatalf("%s: release whose answer was lost, the lock then taken by a waiter that found it free: %v", name, err)
		}
		obs, err := base.Read(t.Context())
		rec, _ := ParseRecord(obs.Body)
		if err != nil || rec.ID != w.ID() || rec.Holder.After != l.ID() {
			t.Fatalf("%s: the waiter's record %+v, %v; want it, after %s", name, rec, err, l.ID())
		}
	}
}

// TestEarlierAttemptIsTakenOverAtOnce: a re-run finds the lock of its own
// run's previous attempt (whose post step never ran) and takes it over
// without waiting for the lease, while the run is in progress.
func TestEarlierAttemptIsTakenOverAtOnce(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme")
	clk := clocktest.New()
	old := newMemLock(b, Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "1"}}, LockOptions{Lease: 6 * time.Hour, Clock: clk})
	if err := old.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	runs := &fakeRuns{completed: map[string]bool{}} // run 7 is in progress (attempt 2)
	var warned string
	w := newMemLock(b, Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "2"}}, LockOptions{Lease: 6 * time.Hour, Runs: runs, Clock: clk, Warn: func(m string) { warned = m }})
	start := clk.Now()
	if err := w.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := clk.Now().Sub(start); d != 0 || !strings.Contains(warned, "earlier attempt") {
		t.Fatalf("after %s: %q", d, warned)
	}
}

// cancelAfterCreate applies a create and then cancels the caller, as a
// signal arriving while the request is in flight would.
type cancelAfterCreate struct {
	LockStore
	cancel context.CancelFunc
}

func (s *cancelAfterCreate) Create(ctx context.Context, body []byte) (string, error) {
	if _, err := s.LockStore.Create(ctx, body); err != nil {
		return "", err
	}
	s.cancel()
	return "", context.Canceled
}

func TestInterruptedAcquireLeavesNoLock(t *testing.T) {
	t.Parallel()
	base := NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")
	ctx, cancel := context.WithCancel(t.Context())
	l := NewApplyLock(&cancelAfterCreate{LockStore: base, cancel: cancel}, Holder{}, LockOptions{Lease: time.Hour})
	if err := l.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire: %v", err)
	}
	if _, err := base.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an interrupted acquire left its record: %v", err)
	}
}
