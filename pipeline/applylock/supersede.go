package applylock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/storage"
)

// Relation is where a commit stands relative to the last applied one, in
// the words of GitHub's compare API.
type Relation string

// The relations GitHub's compare API reports.
const (
	RelationAhead     Relation = "ahead"     // the last applied commit is an ancestor
	RelationIdentical Relation = "identical" // the same commit (a re-run)
	RelationBehind    Relation = "behind"    // an ancestor of the last applied commit: superseded
	RelationDiverged  Relation = "diverged"  // neither contains the other
)

// ParseRelation accepts GitHub's compare statuses.
func ParseRelation(s string) (Relation, error) {
	switch r := Relation(s); r {
	case RelationAhead, RelationIdentical, RelationBehind, RelationDiverged:
		return r, nil
	}
	return "", fmt.Errorf("unknown comparison status %q", s)
}

// Comparer is one source Commits asks: it tells where head stands
// relative to base.
type Comparer interface {
	Compare(ctx context.Context, base, head string) (Relation, error)
	// OnBranch tells whether sha is contained in branch's head (an
	// ancestor of it, or the head itself).
	OnBranch(ctx context.Context, branch, sha string) (bool, error)
	// Name says how, for messages ("GitHub compare API", "git merge-base").
	Name() string
}

// CompareAPI is the part of the GitHub client the compare API comparer uses.
type CompareAPI interface {
	CompareCommits(ctx context.Context, repo, base, head string) (string, error)
}

// GitHubComparer compares through GitHub's compare API in repo (owner/name).
func GitHubComparer(api CompareAPI, repo string) Comparer {
	return githubComparer{api: api, repo: repo}
}

type githubComparer struct {
	api  CompareAPI
	repo string
}

func (g githubComparer) Name() string { return "GitHub compare API" }

func (g githubComparer) Compare(ctx context.Context, base, head string) (Relation, error) {
	status, err := g.api.CompareCommits(ctx, g.repo, base, head)
	if err != nil {
		return "", err
	}
	return ParseRelation(status)
}

// OnBranch asks compare/{branch}...{sha}: GitHub answers behind (or
// identical) exactly when sha is an ancestor of the branch's head; a
// commit only on a pull request's branch is ahead or diverged.
func (g githubComparer) OnBranch(ctx context.Context, branch, sha string) (bool, error) {
	r, err := g.Compare(ctx, branch, sha)
	if err != nil {
		return false, err
	}
	return r == RelationBehind || r == RelationIdentical, nil
}

// Verdict is what Supersede decided for this run's commit.
type Verdict struct {
	// Superseded: a newer commit already started its apply; skip this one.
	Superseded bool
	// Relation of this commit to Last; "" when the ledger was empty or there
	// was no commit to compare.
	Relation Relation
	Via      string      // the comparer that answered
	Last     LedgerEntry // the ledger before this run; zero when empty
	Commit   string      // this run's commit
	links    ci.Links
	record   LedgerRecord
}

// DivergedError is returned when this commit and the last applied one are on different
// histories (a force-push, or an apply from another branch).
type DivergedError struct {
	Commit string
	Last   LedgerEntry
	Where  string   // the ledger
	Links  ci.Links // to verify the record's run URL
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("commit %s diverged from commit %s, whose apply started %s in %s (recorded in %s; neither contains the other: was the default branch force-pushed?); "+
		"if this commit is the one to apply, re-run with allow-diverged: true (--allow-diverged, PRSTATE_ALLOW_DIVERGED=true)",
		ci.ShortSHA(e.Commit), ci.ShortSHA(e.Last.SHA), e.Last.Started.UTC().Format(time.RFC3339), ci.OrWord(e.Links.RunText(e.Last.RunURL), "an unknown run"), e.Where)
}

// Supersede decides, under the apply lock, whether ev's commit may apply:
// it reads the ledger and compares the commit with the last one whose apply
// started. ahead or identical: go on (then RecordApply); behind:
// superseded; diverged: a *DivergedError unless allowDiverged. An empty
// ledger, or an event without a commit (a shell outside CI), goes on.
func Supersede(ctx context.Context, ledger Ledger, cmp *Commits, ev ci.Event, allowDiverged bool) (Verdict, error) {
	rec, err := ledger.Read(ctx)
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Last: rec.Entry, Commit: ev.SHA, links: ev.Links(), record: rec}
	if rec.Empty() || ev.SHA == "" {
		return v, nil
	}
	if rec.Entry.SHA == ev.SHA {
		v.Relation = RelationIdentical
		return v, nil
	}
	a, err := cmp.Compare(ctx, rec.Entry.SHA, ev.SHA)
	if err != nil {
		return Verdict{}, fmt.Errorf("failed to compare commit %s with %s, the last one applied (%s): %w", ci.ShortSHA(ev.SHA), ci.ShortSHA(rec.Entry.SHA), ledger.Where(), err)
	}
	v.Relation, v.Via = a.Relation, a.Via
	switch v.Relation {
	case RelationBehind:
		if err := trustLedger(ctx, cmp, ledger.Where(), rec.Entry, ev); err != nil {
			return Verdict{}, err
		}
		v.Superseded = true
	case RelationDiverged:
		if !allowDiverged {
			return Verdict{}, &DivergedError{Commit: ev.SHA, Last: rec.Entry, Where: ledger.Where(), Links: ev.Links()}
		}
	}
	return v, nil
}

// RecordApply writes ev's commit to the ledger as the last one whose apply
// started, on the condition that the ledger still holds what Supersede
// read, and only while lock is provably held (ApplyLock.WriteHeld: on
// DynamoDB in one transaction with a condition on the lock item). It
// fails loudly when someone wrote in between: under one apply lock that
// cannot happen unless two holders overlapped; and with ErrLockLost when
// the lock was lost before (nothing written) or, on S3, by the time the
// write was answered.
func RecordApply(ctx context.Context, lock Held, ledger Ledger, v Verdict, ev ci.Event, now time.Time) (LedgerEntry, error) {
	if v.Superseded {
		return LedgerEntry{}, errors.New("failed to record the apply: the commit is superseded")
	}
	if ev.SHA == "" {
		return LedgerEntry{}, nil // nothing to compare later runs with
	}
	e := LedgerEntry{SHA: ev.SHA, Run: RunFromEvent(ev), PR: ev.PR, Started: now.UTC(), Previous: v.Last.SHA}
	if e.Previous == e.SHA {
		e.Previous = v.Last.Previous // a re-run of the same commit keeps what it brings
	}
	err := lock.WriteHeld(ctx, "the apply ledger "+ledger.Where(), func(ctx context.Context, check *storage.Check) error {
		_, err := ledger.WriteChecked(ctx, v.record, e, check)
		if errors.Is(err, ErrLedgerChanged) && ledgerHolds(ctx, ledger, e) {
			return nil // our write landed; its answer was lost and the retry found it
		}
		return err
	})
	switch {
	case errors.Is(err, ErrLockLost):
		return LedgerEntry{}, fmt.Errorf("failed to record the apply: %w", err)
	case errors.Is(err, ErrLedgerChanged):
		return LedgerEntry{}, fmt.Errorf("%w: another run recorded its apply while this run held the apply lock; two holders overlapped (was the lock force-unlocked?). Check the runs of this state before re-running", err)
	case err != nil:
		return LedgerEntry{}, err
	}
	return e, nil
}

// ledgerHolds tells whether the ledger now records exactly e.
func ledgerHolds(ctx context.Context, ledger Ledger, e LedgerEntry) bool {
	cur, err := ledger.Read(ctx)
	if err != nil {
		return false
	}
	c := cur.Entry
	return c.SHA == e.SHA && c.Repository == e.Repository && c.RunID == e.RunID && c.RunAttempt == e.RunAttempt && c.Started.Equal(e.Started)
}

// SupersededMessage names the newer commit and its run, for the notice.
func (v Verdict) SupersededMessage() string {
	return fmt.Sprintf("commit %s is superseded: the newer commit %s started its apply %s (%s); skipping this apply",
		ci.ShortSHA(v.Commit), ci.ShortSHA(v.Last.SHA), v.Last.Started.UTC().Format(time.RFC3339), ci.OrWord(v.links.RunText(v.Last.RunURL), "run unknown"))
}
