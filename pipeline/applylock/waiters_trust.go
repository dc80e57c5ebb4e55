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
func (q *WaiterRegistry) newerLive(ctx context.Context, live []Waiter) *Waiter {
	cands := append([]Waiter{}, live...)
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Since.After(cands[j].Since) })
	for _, w := range cands {
		if !escape.IsSHA(w.SHA) || w.SHA == q.me.SHA || w.Repository != q.me.Repository {
			continue
		}
		if a, err := q.relation(ctx, q.me.SHA, w.SHA); err != nil || a.Relation != RelationAhead {
			continue
		}
		if !q.trusted(ctx, w.SHA) {
			continue
		}
		return &w
	}
	return nil
}

// relation compares base with head through the command's comparer,
// which remembers answers (and, for the waiters, failures for
// compareRetry).
func (q *WaiterRegistry) relation(ctx context.Context, base, head string) (Answer, error) {
	a, asked, err := q.o.Commits.compare(ctx, base, head, polling{now: q.o.Clock.Now(), on: true})
	if ctx.Err() != nil {
		return a, ctx.Err()
	}
	if err != nil && asked {
		q.o.Logf("coalescing: cannot compare commit %s with %s: %v", ci.ShortSHA(base), ci.ShortSHA(head), err)
	}
	return a, err
}

// trusted tells whether sha is on the default branch (ledger_trust.go).
func (q *WaiterRegistry) trusted(ctx context.Context, sha string) bool {
	branch := q.o.Event.DefaultBranch
	if branch == "" {
		q.once("branch", "coalescing: the event does not name the default branch, so no other waiter's commit can be trusted; waiting for the lock as usual")
		return false
	}
	ok, asked, err := q.o.Commits.onBranch(ctx, branch, sha, polling{now: q.o.Clock.Now(), on: true})
	if ctx.Err() != nil {
		return false
	}
	switch {
	case !asked:
	case err != nil:
		q.o.Logf("coalescing: cannot tell whether commit %s is on %s: %v", ci.ShortSHA(sha), escape.Log(branch), err)
	case !ok:
		q.o.Logf("coalescing: a waiter record names commit %s, which is not on %s: ignored", ci.ShortSHA(sha), escape.Log(branch))
	}
	return err == nil && ok
}

// ledgerSkip tells whether the ledger, read without the lock, names a
// trusted commit that contains ours: its apply started, so ours is
// superseded. The ledger only moves forward under the lock, so this is
// the verdict Supersede would reach under it. Any doubt: go on waiting
// (the check under the lock reports it).
func (q *WaiterRegistry) ledgerSkip(ctx context.Context) (Verdict, bool) {
	rec, err := q.o.Ledger.Read(ctx)
	if err != nil || rec.Empty() || rec.Entry.SHA == q.me.SHA {
		return Verdict{}, false
	}
	a, err := q.relation(ctx, rec.Entry.SHA, q.me.SHA)
	if err != nil || a.Relation != RelationBehind {
		return Verdict{}, false
	}
	if !q.trusted(ctx, rec.Entry.SHA) {
		return Verdict{}, false
	}
	return Verdict{Superseded: true, Relation: a.Relation, Via: a.Via, Last: rec.Entry, Commit: q.me.SHA, links: q.o.Event.Links(), record: rec}, true
}
