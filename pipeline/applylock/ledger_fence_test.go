package applylock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

const fenceKey = "app/terraform.tfstate"

// lockWorld is one production state's apply lock and ledger, on S3 or
// DynamoDB.
type lockWorld struct {
	bucket storage.Bucket
	table  storage.Table
	kind   string // s3 | dynamodb
}

func (w lockWorld) store() LockStore {
	if w.kind == "dynamodb" {
		return NewDynamoDBLockStore(w.table, statekey.ApplyLockItemID(w.bucket.Name(), fenceKey))
	}
	return NewS3LockStore(w.bucket, statekey.ApplyLockKey(fenceKey))
}

func (w lockWorld) ledger() Ledger { return NewLedger(w.bucket, w.table, w.kind, fenceKey) }

func motoLockWorld(t *testing.T, kind string) lockWorld {
	t.Helper()
	testenv.SkipShort(t, "needs moto_server")
	m := testenv.Moto(t)
	w := lockWorld{kind: kind, bucket: awsstore.NewBucket(s3.NewFromConfig(m.SerialConfig(t), func(o *s3.Options) { o.UsePathStyle = true }), m.NewBucket(t, false))}
	if kind == "dynamodb" {
		w.table = awsstore.NewTable(dynamodb.NewFromConfig(m.SerialConfig(t)), m.NewTable(t))
	}
	return w
}

func applyEvent(sha, run string) ci.Event {
	return ci.Event{Kind: ci.KindPush, SHA: sha, Repository: "acme/infra", RunID: run, DefaultBranch: "main"}
}

// recordUnder runs the supersede check and records ev's commit under l.
func recordUnder(ctx context.Context, l *ApplyLock, ledger Ledger, ev ci.Event) error {
	v, err := Supersede(ctx, ledger, NewCommits(history), ev, false)
	if err != nil {
		return err
	}
	_, err = RecordApply(ctx, l, ledger, v, ev, time.Now())
	return err
}

// TestPausedHolderDoesNotRecordItsApply (moto): holder A (commit C) is
// paused right after Acquire, past its lease; B (commit B, older) takes
// over and records its apply. A resumes and runs its supersede check: C
// is ahead of B, but A no longer holds the lock, so nothing is written and
// the ledger still names B's commit. With A's clock running its own fence
// refuses; with A's clock standing still (its fence cannot tell) the
// store refuses: the lock item's condition in the transaction (DynamoDB),
// the read of the lock record before the write (S3).
func TestPausedHolderDoesNotRecordItsApply(t *testing.T) {
	t.Parallel()
	const lease = 2 * time.Second
	for _, kind := range []string{"s3", "dynamodb"} {
		for _, clockRuns := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/clock runs=%v", kind, clockRuns), func(t *testing.T) {
				t.Parallel()
				w := motoLockWorld(t, kind)
				ctx := t.Context()
				aClock := clock.Real
				if !clockRuns {
					aClock = clocktest.New() // stands still: A's fence never passes
				}
				a := NewApplyLock(w.store(), Holder{SHA: shaC, Run: Run{RunID: "1"}}, LockOptions{Lease: lease, Heartbeats: true, Clock: aClock})
				if err := a.Acquire(ctx); err != nil {
					t.Fatal(err)
				}
				pausedAt := time.Now() // no heartbeat, no supersede check: paused
				b := NewApplyLock(w.store(), Holder{SHA: shaB, Run: Run{RunID: "2"}}, LockOptions{Lease: lease, Heartbeats: true, Poll: 100 * time.Millisecond})
				if err := b.Acquire(ctx); err != nil {
					t.Fatal(err)
				}
				tookOver := time.Since(pausedAt)
				if err := recordUnder(ctx, b, w.ledger(), applyEvent(shaB, "2")); err != nil {
					t.Fatalf("B under the lock: %v", err)
				}
				err := recordUnder(ctx, a, w.ledger(), applyEvent(shaC, "1")) // A resumes
				rec, rerr := w.ledger().Read(ctx)
				t.Logf("%s, A's clock runs %v: B took over %s after A paused; A's record refused: %v", kind, clockRuns, tookOver.Round(time.Millisecond), err)
				if !errors.Is(err, ErrLockLost) {
					t.Errorf("A recorded its apply after losing the lock: %v", err)
				}
				if rerr != nil || rec.Entry.SHA != shaB || rec.Entry.RunID != "2" {
					t.Fatalf("ledger names %s (run %s), want B's commit %s: %v", rec.Entry.SHA, rec.Entry.RunID, shaB, rerr)
				}
				if err := a.Release(ctx); !errors.Is(err, ErrLockLost) {
					t.Errorf("A's release: %v, want the lock lost", err)
				}
				if err := b.Release(ctx); err != nil {
					t.Errorf("B's release: %v", err)
				}
			})
		}
	}
}

// takeoverDuringWrite is a bucket whose ledger write lets another holder
// take the lock over first (before: the write is refused; after: the
// write lands, then the takeover).
type takeoverDuringWrite struct {
	storage.Bucket
	takeover func()
	after    bool
}

func (b *takeoverDuringWrite) PutObject(ctx context.Context, key string, body []byte, o storage.PutOptions) (string, error) {
	if !strings.HasSuffix(key, ".prstate-ledger.json") {
		return b.Bucket.PutObject(ctx, key, body, o)
	}
	if !b.after {
		b.takeover()
	}
	etag, err := b.Bucket.PutObject(ctx, key, body, o)
	if b.after {
		b.takeover()
	}
	return etag, err
}

// TestLedgerWriteRacingATakeover (memstore): the lock is taken over while
// the ledger write is under way, with the holder's fence still valid.
// On S3 a takeover found after the write is reported as a write that may
// have landed after the loss; on DynamoDB the transaction's condition on
// the lock item refuses the write.
func TestLedgerWriteRacingATakeover(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind  string
		after bool
	}{{"s3", true}, {"dynamodb", false}} {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			base := memstore.NewBucket("acme")
			wrapped := &takeoverDuringWrite{Bucket: base, after: c.after}
			w := lockWorld{kind: c.kind, bucket: wrapped}
			var tb *memstore.Table
			if c.kind == "dynamodb" {
				tb = memstore.NewTable("locks")
				w.table = &takeoverDuringPut{Table: tb, takeover: func() { wrapped.takeover() }}
			}
			a := NewApplyLock(w.store(), Holder{SHA: shaC, Run: Run{RunID: "1"}}, LockOptions{Lease: time.Hour, Heartbeats: true})
			if err := a.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
			other := Record{LockInfo: LockInfo{ID: "other-holder", Operation: applyLockOperation}, Holder: Holder{RVN: "x", Lease: "1h0m0s"}}
			wrapped.takeover = func() {
				obs, err := w.store().Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.store().Replace(ctx, other.Marshal(), obs.Version); err != nil {
					t.Fatal(err)
				}
			}
			err := recordUnder(ctx, a, w.ledger(), applyEvent(shaC, "1"))
			if !errors.Is(err, ErrLockLost) {
				t.Fatalf("record during a takeover: %v, want the lock lost", err)
			}
			rec, _ := w.ledger().Read(ctx)
			t.Logf("%s: %v (ledger now %q)", c.kind, err, rec.Entry.SHA)
			switch {
			case c.after && (!strings.Contains(err.Error(), "may have overlapped") || rec.Entry.SHA != shaC):
				t.Errorf("S3: the write landed before the takeover was seen; want it reported as overlapping: %v, ledger %q", err, rec.Entry.SHA)
			case !c.after && !rec.Empty():
				t.Errorf("DynamoDB: the ledger was written after the takeover: %+v", rec.Entry)
			}
			if err := a.Release(ctx); !errors.Is(err, ErrLockLost) {
				t.Errorf("release after the takeover: %v", err)
			}
		})
	}
}

// takeoverDuringPut lets another holder take the lock over right before
// a checked put (between the fence check and the transaction).
type takeoverDuringPut struct {
	*memstore.Table
	takeover func()
}

func (t *takeoverDuringPut) PutItemChecked(ctx context.Context, item storage.Item, cond storage.Condition, check storage.Check) error {
	t.takeover()
	return t.Table.PutItemChecked(ctx, item, cond, check)
}
