package applylock

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// refusingStore answers every Replace with a transient error without
// writing, as S3 does with 503 SlowDown or 409 ConditionalRequestConflict.
type refusingStore struct {
	LockStore
	refuse atomic.Bool
}

var errSlowDown = errors.New("503 SlowDown: Please reduce your request rate")

func (s *refusingStore) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	if s.refuse.Load() {
		return "", errSlowDown
	}
	return s.LockStore.Replace(ctx, body, expected)
}

// TestFailedRenewalIsAnError: a renewal that did not land is an error
// even though the read-back shows our own (unchanged) record, and once no
// renewal was confirmed for lease - lease/3 the lock is lost for good:
// renewals stop, and the release says lost, though it frees our record.
func TestFailedRenewalIsAnError(t *testing.T) {
	t.Parallel()
	clk := clocktest.New()
	s := &refusingStore{LockStore: NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")}
	l := NewApplyLock(s, Holder{}, LockOptions{Lease: 9 * time.Second, Heartbeats: true, Clock: clk})
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.refuse.Store(true)
	err := l.Renew(t.Context())
	if err == nil || errors.Is(err, ErrLockLost) || !errors.Is(err, errSlowDown) {
		t.Fatalf("refused renewal: %v, want the transient error", err)
	}
	_ = clk.Sleep(t.Context(), 6*time.Second-time.Millisecond)
	if err := l.Lost(); err != nil {
		t.Fatalf("lost before the deadline: %v", err)
	}
	_ = clk.Sleep(t.Context(), time.Millisecond)
	s.refuse.Store(false)
	if err := l.Renew(t.Context()); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "no renewal was confirmed") {
		t.Fatalf("renewal after the deadline: %v, want lost", err)
	}
	if err := l.Release(t.Context()); !errors.Is(err, ErrLockLost) {
		t.Fatalf("release after the deadline: %v, want lost", err)
	}
	if _, err := s.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("our own record was not freed: %v", err)
	}
}

// TestLostAnswerCountsFromItsSend: a renewal whose answer was lost is
// recognised by its RVN and moves the deadline to when it was sent.
func TestLostAnswerCountsFromItsSend(t *testing.T) {
	t.Parallel()
	clk := clocktest.New()
	s := &lossyStore{LockStore: NewDynamoDBLockStore(memstore.NewTable("locks"), "acme/k.prstate-apply")}
	l := NewApplyLock(s, Holder{}, LockOptions{Lease: 9 * time.Second, Clock: clk})
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	_ = clk.Sleep(t.Context(), 3*time.Second)
	sent := clk.Now()
	s.lose.Store(1)
	if err := l.Renew(t.Context()); err != nil {
		t.Fatalf("renewal whose answer was lost: %v", err)
	}
	if got, want := l.fence.deadline(), sent.Add(6*time.Second); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
}

// TestHeartbeatingHolderOfACompletedRunWaitsForItsKillTime: GitHub says
// the holder's run completed, but its record still changes: it is taken
// over only once the record stood still past the holder's kill time
// (killAfter) plus a renewal's timeout on the waiter's clock, before the
// lease would lapse.
func TestHeartbeatingHolderOfACompletedRunWaitsForItsKillTime(t *testing.T) {
	t.Parallel()
	const lease = 5 * time.Minute
	b := memstore.NewBucket("acme")
	clk := clocktest.New()
	holder := newMemLock(b, Holder{Run: Run{Repository: "acme/infra", RunID: "77"}}, LockOptions{Lease: lease, Heartbeats: true, Clock: clk})
	if err := holder.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	runs := &fakeRuns{completed: map[string]bool{"acme/infra/" + time.Duration(77).String(): true}}
	var warned string
	every := heartbeatEvery(lease)
	wclk := &heartbeatingClock{Fake: clk, every: every, holder: holder, until: clk.Now().Add(10 * every)}
	w := newMemLock(b, Holder{Run: Run{RunID: "78"}}, LockOptions{Lease: lease, Poll: 500 * time.Millisecond, Runs: runs, Clock: wclk, Warn: func(m string) { warned = m }})
	start := clk.Now()
	if err := w.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, last := clk.Now().Sub(start), wclk.last.Sub(start)
	quiet := killAfter(lease) + renewTimeout(lease) // 250 s + 30 s
	t.Logf("last heartbeat at +%s, taken over at +%s: %s later (kill time + renewal timeout %s, lease %s)", last, got, got-last, quiet, lease)
	if last < 9*every || got <= last+quiet || got > last+quiet+2*625*time.Millisecond || got-last >= lease || !strings.Contains(warned, "run has completed") {
		t.Fatalf("taken over at +%s, last heartbeat at +%s: %q", got, last, warned)
	}
}

// stallingStore never answers a Replace: the request hangs until its
// context ends, as one does when the connection stops moving bytes.
type stallingStore struct{ LockStore }

func (s *stallingStore) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// TestKeeperFencesOnTheClock: renewals hang; the watchdog declares the
// lock lost at the deadline (last confirmed send + lease - lease/3), not
// before, and not much later.
func TestKeeperFencesOnTheClock(t *testing.T) {
	t.Parallel()
	const lease = 900 * time.Millisecond
	s := &stallingStore{NewS3LockStore(memstore.NewBucket("acme"), "k.prstate-apply.lock")}
	l := NewApplyLock(s, Holder{}, LockOptions{Lease: lease, Heartbeats: true})
	start := time.Now()
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	k := l.Keep(t.Context())
	defer k.Stop()
	select {
	case <-k.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("not lost 5 s after the renewals stalled")
	}
	took := time.Since(start)
	if took < lease*2/3 || took > lease*2/3+300*time.Millisecond {
		t.Fatalf("lost after %s, want at lease - lease/3 = %s", took, lease*2/3)
	}
	if !errors.Is(k.Err(), ErrLockLost) {
		t.Fatalf("Err() = %v", k.Err())
	}
	if k.KillBy().Sub(start) > lease {
		t.Fatalf("kill by %s after the acquire: after the lease %s", k.KillBy().Sub(start), lease)
	}
}
