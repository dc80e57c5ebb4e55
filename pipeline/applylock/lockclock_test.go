package applylock

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// One clock rule (DESIGN.md), on DynamoDB (moto), where a record's age on
// the server's clock can only be told from the holder's own write time.
// Holder and waiter run on a host whose wall clock is 10 minutes slow.
const (
	// clockLease is not what these tests check: 6 s leaves a renewal 1 s
	// (lease/6) on a loaded moto, where 3 s left it 0.5 s.
	clockLease  = 6 * time.Second
	clockSkew   = time.Minute // the clock-skew setting's default
	clockPoll   = 300 * time.Millisecond
	clockOffset = -10 * time.Minute
)

func motoLockStore(t *testing.T) LockStore {
	t.Helper()
	testenv.SkipShort(t, "needs moto_server")
	m := testenv.Moto(t)
	tb := awsstore.NewTable(dynamodb.NewFromConfig(m.SerialConfig(t)), m.NewTable(t))
	return NewDynamoDBLockStore(tb, "acme/app/terraform.tfstate.prstate-apply")
}

func slowLock(store LockStore, run string, heartbeats bool, timeout time.Duration) *ApplyLock {
	return NewApplyLock(store, Holder{Run: Run{RunID: run}}, LockOptions{
		Lease: clockLease, Heartbeats: heartbeats, ClockSkew: clockSkew, Poll: clockPoll, Timeout: timeout,
		Clock: clocktest.Offset{By: clockOffset},
	})
}

// skewOf is how far the holder's written time is behind DynamoDB's clock.
func skewOf(t *testing.T, store LockStore) time.Duration {
	t.Helper()
	obs, err := store.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseRecord(obs.Body)
	if err != nil || obs.ServerNow.IsZero() {
		t.Fatalf("record %s, server time %s: %v", obs.Body, obs.ServerNow, err)
	}
	return obs.ServerNow.Sub(rec.Holder.Renewed)
}

// TestSlowClockHeartbeatingHolderIsNeverTakenOver: the holder's record
// looks 10 minutes old on DynamoDB's clock (more than the skew margin),
// but it heartbeats: a waiter watches its RVN change on its own clock and
// never takes over, for 3 leases, until it times out.
func TestSlowClockHeartbeatingHolderIsNeverTakenOver(t *testing.T) {
	t.Parallel()
	store := motoLockStore(t)
	holder := slowLock(store, "1", true, 0)
	if err := holder.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	k := holder.Keep(t.Context())
	defer k.Stop()
	if d := skewOf(t, store); d < 9*time.Minute {
		t.Fatalf("the holder's record is only %s behind the server's clock: the offset did not reach it", d)
	}
	waiter := slowLock(store, "2", true, 3*clockLease)
	start := time.Now()
	err := waiter.Acquire(t.Context())
	waited := time.Since(start)
	var te *LockTimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("after %s: %v, want a timeout: a live heartbeating holder was taken over", waited, err)
	}
	rec, _ := ParseRecord(mustRead(t, store))
	t.Logf("holder 10 min slow, record %s behind DynamoDB's clock: not taken over in %s (3 leases of %s); waiter timed out", skewOf(t, store).Round(time.Second), waited.Round(time.Millisecond), clockLease)
	if rec.ID != holder.ID() || k.Err() != nil {
		t.Fatalf("holder lost the lock: record %s, %v", rec.ID, k.Err())
	}
}

// TestSlowClockDeadHolderIsTakenOver: with the same offset, a holder that
// stopped (heartbeats stopped, or none in lock mode) is taken over within
// lease + skew + a poll: the waiter's clock and, without heartbeats, the
// server's clock still end it.
func TestSlowClockDeadHolderIsTakenOver(t *testing.T) {
	t.Parallel()
	for _, heartbeats := range []bool{true, false} {
		name := "heartbeats"
		if !heartbeats {
			name = "no heartbeats (lock mode)"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := motoLockStore(t)
			holder := slowLock(store, "1", heartbeats, 0)
			if err := holder.Acquire(t.Context()); err != nil {
				t.Fatal(err)
			}
			if heartbeats {
				k := holder.Keep(t.Context())
				time.Sleep(clockLease)
				k.Stop() // the holder dies: no more heartbeats
			}
			died := time.Now()
			waiter := slowLock(store, "2", heartbeats, time.Minute+clockLease+clockSkew)
			if err := waiter.Acquire(t.Context()); err != nil {
				t.Fatal(err)
			}
			took := time.Since(died)
			w := waiter.Wait()
			t.Logf("dead holder (%s), both clocks 10 min slow: taken over %s after it died (bound: lease %s + skew %s + poll %s)", name, took.Round(time.Millisecond), clockLease, clockSkew, clockPoll)
			if !w.TookOver || took > clockLease+clockSkew+2*clockPoll {
				t.Fatalf("took over %v after %s", w.TookOver, took)
			}
			if heartbeats && took < clockLease {
				t.Fatalf("a heartbeating holder was taken over %s after its last heartbeat, before its lease %s", took, clockLease)
			}
		})
	}
}

func mustRead(t *testing.T, store LockStore) []byte {
	t.Helper()
	obs, err := store.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return obs.Body
}
