package applylock

import (
	"context"
	"sort"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
)

// newerLive is a live waiter of this repository whose commit contains
// ours (compare ours...theirs is ahead) and is on the default branch: a
// record naming any other commit (one a pull request job could have
// written) never makes us defer. Diverged and identical commits do not.
func (q *Queue) newerLive(ctx context.Context, live []Waiter) *Waiter {
	cands := append([]Waiter{}, live...)
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Since.After(cands[j].Since) })
	for _, w := range cands {
		if !escape.IsSHA(w.SHA) || w.SHA == q.me.SHA || w.Repository != q.me.Repository {
			continue
		}
		if _, rel, err := q.relation(ctx, q.me.SHA, w.SHA); err != nil || rel != RelationAhead {
			continue
		}
		if !q.trusted(ctx, w.SHA) {
			continue
		}
		return &w
	}
	return nil
}

// relation compares base with head through the ledger's comparer,
// remembering answers (and errors for compareRetry).
func (q *Queue) relation(ctx context.Context, base, head string) (string, Relation, error) {
	key := [2]string{base, head}
	now := q.o.Clock.Now()
	if c, ok := q.rel[key]; ok && (c.err == nil || now.Sub(c.at) < compareRetry) {
		return q.o.Comparer.Name(), c.v, c.err
	}
	via, r, err := compareVia(ctx, q.o.Comparer, base, head)
	if ctx.Err() != nil {
		return via, "", ctx.Err()
	}
	q.rel[key] = cached[Relation]{v: r, err: err, at: now}
	if err != nil {
		q.o.Logf("coalescing: cannot compare commit %s with %s: %v", ci.ShortSHA(base), ci.ShortSHA(head), err)
	}
	return via, r, err
}

// trusted tells whether sha is on the default branch (ledger_trust.go).
func (q *Queue) trusted(ctx context.Context, sha string) bool {
	branch := q.o.Event.DefaultBranch
	if branch == "" {
		q.once("branch", "coalescing: the event does not name the default branch, so no other waiter's commit can be trusted; waiting for the lock as usual")
		return false
	}
	now := q.o.Clock.Now()
	if c, ok := q.onBranch[sha]; ok && (c.err == nil || now.Sub(c.at) < compareRetry) {
		return c.v
	}
	ok, err := q.o.Comparer.OnBranch(ctx, branch, sha)
	if ctx.Err() != nil {
		return false
	}
	q.onBranch[sha] = cached[bool]{v: ok, err: err, at: now}
	switch {
	case err != nil:
		q.o.Logf("coalescing: cannot tell whether commit %s is on %s: %v", ci.ShortSHA(sha), escape.Log(branch), err)
	case !ok:
		q.o.Logf("coalescing: a waiter record names commit %s, which is not on %s: ignored", ci.ShortSHA(sha), escape.Log(branch))
	}
	return err == nil && ok
}

// compareVia is Comparer.Compare that also says which comparer answered.
func compareVia(ctx context.Context, cmp Comparer, base, head string) (string, Relation, error) {
	if f, ok := cmp.(answeringComparer); ok {
		return f.compare(ctx, base, head)
	}
	r, err := cmp.Compare(ctx, base, head)
	return cmp.Name(), r, err
}

// ledgerSkip tells whether the ledger, read without the lock, names a
// trusted commit that contains ours: its apply started, so ours is
// superseded. The ledger only moves forward under the lock, so this is
// the verdict Supersede would reach under it. Any doubt: go on waiting
// (the check under the lock reports it).
func (q *Queue) ledgerSkip(ctx context.Context) (Verdict, bool) {
	rec, err := q.o.Ledger.Read(ctx)
	if err != nil || rec.Empty() || rec.Entry.SHA == q.me.SHA {
		return Verdict{}, false
	}
	via, rel, err := q.relation(ctx, rec.Entry.SHA, q.me.SHA)
	if err != nil || rel != RelationBehind {
		return Verdict{}, false
	}
	if !q.trusted(ctx, rec.Entry.SHA) {
		return Verdict{}, false
	}
	return Verdict{Superseded: true, Relation: rel, Via: via, Last: rec.Entry, Commit: q.me.SHA, links: q.o.Event.Links(), record: rec}, true
}
