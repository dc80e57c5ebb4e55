package applylock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

const waiterKey = "app/terraform.tfstate"

func commitSHA(c byte) string { return strings.Repeat(string(c), 40) }

// dag is a Comparer over a made-up history: parent links, and the head of
// main (what OnBranch checks against).
type dag struct {
	parent map[string]string
	main   string
}

func (d dag) Name() string { return "dag" }

func (d dag) ancestorOf(a, b string) bool { // a is b or an ancestor of b
	for c := b; c != ""; c = d.parent[c] {
		if c == a {
			return true
		}
	}
	return false
}

func (d dag) Compare(_ context.Context, base, head string) (Relation, error) {
	switch {
	case base == head:
		return RelationIdentical, nil
	case d.ancestorOf(base, head):
		return RelationAhead, nil
	case d.ancestorOf(head, base):
		return RelationBehind, nil
	}
	return RelationDiverged, nil
}

func (d dag) OnBranch(_ context.Context, branch, sha string) (bool, error) {
	if branch != "main" {
		return false, errors.New("no such branch")
	}
	return d.ancestorOf(sha, d.main), nil
}

// history: main is R < A < B < C; D diverged off R; F is a pull request's
// commit on top of C, not on main.
var (
	shaR, shaA, shaB, shaC = commitSHA('0'), commitSHA('a'), commitSHA('b'), commitSHA('c')
	shaD, shaF             = commitSHA('d'), commitSHA('f')
	history                = dag{parent: map[string]string{shaA: shaR, shaB: shaA, shaC: shaB, shaD: shaR, shaF: shaC}, main: shaC}
)

type waitersWorld struct {
	bucket *memstore.Bucket
	clk    *clocktest.Fake
}

func newWaitersWorld() waitersWorld {
	return waitersWorld{bucket: memstore.NewBucket("acme-state"), clk: clocktest.New()}
}

func (w waitersWorld) ledger() Ledger { return NewLedger(w.bucket, nil, "s3", waiterKey) }

func (w waitersWorld) queue(t *testing.T, sha, run string) *WaiterRegistry {
	t.Helper()
	q := NewWaiterRegistry(WaiterRegistryOptions{
		Store:   NewWaitersStore(w.bucket, nil, "s3", waiterKey),
		Ledger:  w.ledger(),
		Commits: NewCommits(history),
		Event: ci.Event{SHA: sha, Repository: "acme/infra", RunID: run, RunAttempt: "1", DefaultBranch: "main",
			ServerURL: "https://github.com", RunURL: "https://github.com/acme/infra/actions/runs/" + run},
		Clock: w.clk,
		Logf:  func(f string, a ...any) { t.Logf(f, a...) },
	})
	if q == nil {
		t.Fatal("no queue")
	}
	return q
}

// waiters lists the SHAs in the record.
func (w waitersWorld) waiters(t *testing.T) []string {
	t.Helper()
	o, err := w.bucket.GetObject(context.Background(), statekey.WaitersObjectKey(waiterKey))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	ws, err := parseWaiters(o.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range ws {
		out = append(out, x.SHA[:1])
	}
	return out
}

func deferredTo(d registryDecision) string {
	if d.deferTo == nil {
		return ""
	}
	return d.deferTo.SHA[:1]
}

// TestWaiterDefersToNewerLiveWaiter: A defers to B, which contains it,
// while B heartbeats; B defers to nobody. Once B's record stood still for
// a whole lease on A's clock, A contends again and drops B's record.
func TestWaiterDefersToNewerLiveWaiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	a, b := w.queue(t, shaA, "1"), w.queue(t, shaB, "2")
	if d := a.poll(ctx); deferredTo(d) != "" || d.skip != nil {
		t.Fatalf("A alone: %+v", d)
	}
	if d := b.poll(ctx); deferredTo(d) != "" {
		t.Fatalf("B deferred to %s", deferredTo(d))
	}
	if d := a.poll(ctx); deferredTo(d) != "b" {
		t.Fatalf("A deferred to %q, want b", deferredTo(d))
	}
	for range 8 { // B heartbeats: A keeps deferring past a lease
		_ = w.clk.Sleep(ctx, DefaultWaiterLease/4)
		b.poll(ctx)
		if d := a.poll(ctx); deferredTo(d) != "b" {
			t.Fatalf("A deferred to %q while B is alive", deferredTo(d))
		}
	}
	_ = w.clk.Sleep(ctx, DefaultWaiterLease) // B is killed
	if d := a.poll(ctx); deferredTo(d) != "" {
		t.Fatalf("A still defers to a dead waiter")
	}
	if got := w.waiters(t); strings.Join(got, "") != "a" {
		t.Fatalf("waiters %v, want B's stale record dropped", got)
	}
}

// TestWaiterDivergedOrIdenticalNotDeferred: neither of two diverged
// commits defers, nor two runs of one commit.
func TestWaiterDivergedOrIdenticalNotDeferred(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	qs := []*WaiterRegistry{w.queue(t, shaB, "1"), w.queue(t, shaD, "2"), w.queue(t, shaB, "3")}
	for range 2 {
		for i, q := range qs {
			if d := q.poll(ctx); d.deferTo != nil {
				t.Fatalf("waiter %d deferred to %s", i, d.deferTo.SHA[:1])
			}
		}
	}
}

// TestWaiterForgedRecordIgnored: a live waiter record, or a ledger,
// naming a commit that is not on the default branch (what a pull request
// job could write) makes no real apply defer or skip.
func TestWaiterForgedRecordIgnored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	forged := marshalWaiters([]Waiter{{ID: "forged", SHA: shaF, Run: Run{Repository: "acme/infra", RunID: "9"}, RVN: "x", Lease: "1m"}})
	if _, err := w.bucket.PutObject(ctx, statekey.WaitersObjectKey(waiterKey), forged, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ledger().Write(ctx, LedgerRecord{}, LedgerEntry{SHA: shaF, Started: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	c := w.queue(t, shaC, "1")
	for range 3 {
		if d := c.poll(ctx); d.deferTo != nil || d.skip != nil {
			t.Fatalf("C deferred or skipped for a forged record: %+v", d)
		}
	}
	// A record of another repository is ignored too.
	other := w.queue(t, shaA, "2")
	other.me.Repository = "evil/fork"
	other.poll(ctx)
	if d := w.queue(t, shaR, "3").poll(ctx); deferredTo(d) == "a" {
		t.Fatal("deferred to another repository's waiter")
	}
}

// TestWaiterSkipsOnceLedgerNamesContainingCommit: once a commit that
// contains ours (on main) started its apply, we are superseded, without
// the lock; a ledger naming an older or diverged commit changes nothing.
func TestWaiterSkipsOnceLedgerNamesContainingCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	a := w.queue(t, shaA, "1")
	rec, err := w.ledger().Write(ctx, LedgerRecord{}, LedgerEntry{SHA: shaR, Started: w.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if d := a.poll(ctx); d.skip != nil {
		t.Fatal("skipped behind an older commit")
	}
	rec, err = w.ledger().Write(ctx, rec, LedgerEntry{SHA: shaD, Started: w.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if d := a.poll(ctx); d.skip != nil {
		t.Fatal("skipped behind a diverged commit")
	}
	if _, err := w.ledger().Write(ctx, rec, LedgerEntry{SHA: shaC, Run: Run{RunURL: "https://github.com/acme/infra/actions/runs/7"}, Started: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	d := a.poll(ctx)
	if d.skip == nil || !d.skip.Verdict.Superseded || d.skip.Verdict.Last.SHA != shaC {
		t.Fatalf("not skipped: %+v", d)
	}
	if msg := d.skip.Error(); !strings.Contains(msg, shaC[:7]) || !strings.Contains(msg, "runs/7") {
		t.Fatalf("message %q does not name the newer commit and run", msg)
	}
}

// TestWaiterLeaveRemovesEntry: a waiter that goes (took the lock, gave
// up) removes its entry, and the older one contends again at once.
func TestWaiterLeaveRemovesEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWaitersWorld()
	a, b := w.queue(t, shaA, "1"), w.queue(t, shaB, "2")
	a.poll(ctx)
	b.poll(ctx)
	if d := a.poll(ctx); deferredTo(d) != "b" {
		t.Fatal("A does not defer to B")
	}
	b.leave(ctx, time.Second)
	if got := w.waiters(t); strings.Join(got, "") != "a" {
		t.Fatalf("waiters %v after B left", got)
	}
	if d := a.poll(ctx); d.deferTo != nil {
		t.Fatal("A still defers after B left")
	}
}
