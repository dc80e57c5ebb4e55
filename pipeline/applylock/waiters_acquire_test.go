package applylock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// flakyLock is a lock store that is held at the first create and free
// afterwards, and counts creates.
type flakyLock struct {
	LockStore
	creates atomic.Int32
}

func (f *flakyLock) Create(ctx context.Context, body []byte) (string, error) {
	if f.creates.Add(1) == 1 {
		return "", storage.ErrPrecondition
	}
	return f.LockStore.Create(ctx, body)
}

// TestWaiterAcquireDefersWhileNewerWaiterLives: the lock is free, but a
// live newer waiter contains our commit: Acquire does not take it until
// that waiter's record went stale (a whole waiter lease), and removes its
// own entry once it holds the lock.
func TestWaiterAcquireDefersWhileNewerWaiterLives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	w.queue(t, shaB, "2").poll(ctx) // B announces, then dies
	store := &flakyLock{LockStore: NewS3LockStore(w.bucket, statekey.ApplyLockKey(waiterKey))}
	l := NewApplyLock(store, Holder{SHA: shaA}, LockOptions{Lease: time.Minute, Clock: w.clk, Timeout: time.Minute})
	l.Coalesce(w.queue(t, shaA, "1"))
	if err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if waited := l.Wait().Waited; waited < DefaultWaiterLease {
		t.Fatalf("took the lock after %s, while B was alive", waited)
	}
	if n := store.creates.Load(); n != 2 {
		t.Fatalf("%d creates, want 2 (none while deferring)", n)
	}
	if got := w.waiters(t); len(got) != 0 {
		t.Fatalf("waiters %v after A took the lock", got)
	}
}

// TestWaiterAcquireEndsSuperseded: Acquire ends with *SupersededError
// when the ledger names a containing commit while we wait.
func TestWaiterAcquireEndsSuperseded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	holder := NewApplyLock(NewS3LockStore(w.bucket, statekey.ApplyLockKey(waiterKey)), Holder{SHA: shaC}, LockOptions{Lease: time.Minute, Clock: w.clk})
	if err := holder.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ledger().Write(ctx, LedgerRecord{}, LedgerEntry{SHA: shaC, Started: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	l := NewApplyLock(NewS3LockStore(w.bucket, statekey.ApplyLockKey(waiterKey)), Holder{SHA: shaA}, LockOptions{Lease: time.Minute, Clock: w.clk, Timeout: 30 * time.Second})
	l.Coalesce(w.queue(t, shaA, "1"))
	err := l.Acquire(ctx)
	var se *SupersededError
	if !errors.As(err, &se) || se.Verdict.Last.SHA != shaC {
		t.Fatalf("Acquire: %v", err)
	}
	if got := w.waiters(t); len(got) != 0 {
		t.Fatalf("waiters %v after A skipped", got)
	}
}

// countingDag counts the questions it answers.
type countingDag struct {
	dag
	compares, onBranch atomic.Int32
}

func (c *countingDag) Compare(ctx context.Context, base, head string) (Relation, error) {
	c.compares.Add(1)
	return c.dag.Compare(ctx, base, head)
}

func (c *countingDag) OnBranch(ctx context.Context, branch, sha string) (bool, error) {
	c.onBranch.Add(1)
	return c.dag.OnBranch(ctx, branch, sha)
}

// TestWaiterCommitsAsksOnce: the waiters' checks and the supersede
// check under the lock share one comparer, which remembers: one question
// per pair of commits, and per commit on the branch (only "on it" is kept).
func TestWaiterCommitsAsksOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &countingDag{dag: history}
	m := NewCommits(c)
	for range 3 {
		if r, err := m.Compare(ctx, shaA, shaC); err != nil || r.Relation != RelationAhead || r.Via != "dag" {
			t.Fatalf("Compare: %v %v", r, err)
		}
		if ok, err := m.OnBranch(ctx, "main", shaC); err != nil || !ok {
			t.Fatalf("OnBranch C: %v %v", ok, err)
		}
		if ok, _ := m.OnBranch(ctx, "main", shaF); ok {
			t.Fatal("F is on main")
		}
	}
	if n, b := c.compares.Load(), c.onBranch.Load(); n != 1 || b != 1+3 {
		t.Fatalf("%d compares, %d branch checks; want 1 and 4", n, b)
	}
}

// TestWaiterGitComparerFetchesNewerCommits: a job's checkout made before
// a later merge learns of it from origin when asked about it.
func TestWaiterGitComparerFetchesNewerCommits(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "git")
	origin, clone := t.TempDir(), t.TempDir()
	commit := func(dir, msg string) string {
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("# "+msg+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.Git(t, dir, "add", "main.tf")
		testenv.Git(t, dir, "commit", "-q", "-m", msg)
		return testenv.Git(t, dir, "rev-parse", "HEAD")
	}
	testenv.Git(t, origin, "init", "-q", "-b", "main")
	a := commit(origin, "A")
	testenv.Git(t, clone, "clone", "-q", origin, ".")
	b := commit(origin, "B") // merged after the job checked out
	ctx := context.Background()
	if _, err := GitComparer(clone).Compare(ctx, a, b); err == nil {
		t.Fatal("the clone already knows B")
	}
	cmp := FetchingGitComparer(clone, "main")
	if r, err := cmp.Compare(ctx, a, b); err != nil || r != RelationAhead {
		t.Fatalf("Compare after a fetch: %v %v", r, err)
	}
	if ok, err := cmp.OnBranch(ctx, "main", b); err != nil || !ok {
		t.Fatalf("OnBranch: %v %v", ok, err)
	}
	if _, ok := FetchingGitComparer(clone, "-evil").(gitComparer); !ok {
		t.Fatal("a branch name starting with - reached git")
	}
}

// deniedWaiters is a waiters record the role may not write.
type deniedWaiters struct {
	LockStore
	writes atomic.Int32
}

func (d *deniedWaiters) Create(context.Context, []byte) (string, error) {
	d.writes.Add(1)
	return "", &storage.Error{Msg: "access denied: s3:PutObject", Permanent: true}
}

// TestWaiterDeniedRecordWaitsAsBefore: a role without the waiters record
// (an older policy) tries once, says so, and takes the lock as before.
func TestWaiterDeniedRecordWaitsAsBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	q := w.queue(t, shaA, "1")
	denied := &deniedWaiters{LockStore: q.o.Store}
	q.o.Store = denied
	store := &flakyLock{LockStore: NewS3LockStore(w.bucket, statekey.ApplyLockKey(waiterKey))}
	l := NewApplyLock(store, Holder{SHA: shaA}, LockOptions{Lease: time.Minute, Clock: w.clk, Timeout: time.Minute})
	l.Coalesce(q)
	if err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		q.poll(ctx)
	}
	if n := denied.writes.Load(); n != 1 {
		t.Fatalf("%d writes of a denied record, want 1", n)
	}
}
