package cleanup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/usage"
)

// ClosedPullRequest is one entry of GitHub's list of closed pull requests.
type ClosedPullRequest struct {
	Number    int
	UpdatedAt time.Time
}

// PullRequestLister lists a repository's closed pull requests, most
// recently updated first, one page (of up to 100) per call; next is 0
// after the last page.
type PullRequestLister interface {
	ClosedPullRequests(ctx context.Context, repo string, page int) (prs []ClosedPullRequest, next int, err error)
}

// objectLister is the part of a bucket a sweep lists PR states with.
type objectLister interface {
	ListObjects(ctx context.Context, prefix string) ([]storage.Object, error)
}

// SweepBucket is the part of a bucket a sweep uses: cleanup's, and a listing.
type SweepBucket interface {
	Bucket
	objectLister
}

// SweepTarget is one stack, its bucket and its table (nil without one).
type SweepTarget struct {
	Stack  statekey.Stack
	Bucket SweepBucket
	Table  Table
}

// SweepOptions tune a sweep.
type SweepOptions struct {
	Cleanup   Options
	OlderThan time.Duration     // also remove PR states not written for this long (0: never)
	Pulls     PullRequestLister // nil: by age alone
	Repo      string            // owner/name
}

// SweepReport says what a sweep found and did.
type SweepReport struct {
	PRStates       int      `json:"pr_states"` // found under the configured keys
	ClosedPRs      []int    `json:"closed_prs"`
	GitHubRequests int      `json:"github_requests"`
	AgeOnly        bool     `json:"age_only,omitempty"`
	Results        []Result `json:"results"`
	// Refused is how many PR states cleanup kept on purpose (applied to,
	// or it cannot tell): reported, not errors.
	Refused int `json:"refused"`
	// Locked is how many of those were skipped at once because their
	// Terraform lock was held (a sweep does not wait): the next sweep
	// tries again.
	Locked int `json:"locked"`
	// Unmatched lists keys under the PR key prefix that the template does
	// not match (app/pr-0042/..., app/pr-zz/...): never deleted, reported
	// (at most MaxUnmatchedListed of UnmatchedCount).
	Unmatched      []string `json:"unmatched,omitempty"`
	UnmatchedCount int      `json:"unmatched_count"`
}

// MaxUnmatchedListed bounds how many unmatched keys a sweep report names.
const MaxUnmatchedListed = 50

// closedSlack is how long after a PR was closed its state may still have
// been written (a run queued before the close); a sweep stops paging
// through closed PRs updated that long before the oldest state it looks for.
const closedSlack = 24 * time.Hour

// prStateFound is one PR state a sweep found.
type prStateFound struct {
	pr        int
	lastWrite time.Time // newest of the state and its lock file
}

// Sweep finds the PR states under every target's production key, asks
// GitHub which of those PRs are closed (listing closed PRs page by page,
// not one request per PR) and cleans those up, plus, with OlderThan, any
// PR state not written for that long. Only keys the template matches are
// considered; cleanup itself refuses applied-to states without Force. A
// refused state is kept and reported (Refused, its result's Skipped) and
// the sweep goes on: the error is only for what failed.
func Sweep(ctx context.Context, targets []SweepTarget, opts SweepOptions) (SweepReport, error) {
	rep := SweepReport{ClosedPRs: []int{}, Results: []Result{}}
	if opts.Pulls == nil && opts.OlderThan <= 0 {
		return rep, usage.Errorf("sweep needs a github-token (to find closed pull requests) or --older-than (to go by age)")
	}
	if opts.Pulls != nil && opts.Repo == "" {
		return rep, usage.Errorf("sweep needs the repository (GITHUB_REPOSITORY=owner/name) to ask GitHub which pull requests are closed")
	}
	opts.Cleanup = opts.Cleanup.withDefaults()
	now := opts.Cleanup.Clock.Now()
	rep.AgeOnly = opts.Pulls == nil
	found := make([]map[int]time.Time, len(targets))
	population := make([]int, len(targets))
	oldest := map[int]time.Time{} // per PR, across stacks: the newest write
	for i, tg := range targets {
		states, unmatched, n, err := findPRStates(ctx, tg.Bucket, tg.Stack.Keys)
		if err != nil {
			return rep, err
		}
		rep.UnmatchedCount += len(unmatched)
		for _, k := range unmatched {
			if len(rep.Unmatched) < MaxUnmatchedListed {
				rep.Unmatched = append(rep.Unmatched, k)
			}
		}
		found[i], population[i] = map[int]time.Time{}, n
		for _, s := range states {
			found[i][s.pr] = s.lastWrite
			if w, ok := oldest[s.pr]; !ok || s.lastWrite.After(w) {
				oldest[s.pr] = s.lastWrite
			}
		}
		rep.PRStates += len(states)
	}
	closed := map[int]bool{}
	if opts.Pulls != nil && len(oldest) > 0 {
		var err error
		closed, rep.GitHubRequests, err = closedPRs(ctx, opts.Pulls, opts.Repo, oldest)
		if err != nil {
			return rep, err
		}
		for pr := range closed {
			rep.ClosedPRs = append(rep.ClosedPRs, pr)
		}
		sort.Ints(rep.ClosedPRs)
	}
	var errs []error
	for i, tg := range targets {
		var prs []int
		reasons := map[int]string{}
		for pr, w := range found[i] {
			age := now.Sub(w)
			switch {
			case closed[pr]:
				reasons[pr] = "closed"
			case opts.OlderThan > 0 && age >= opts.OlderThan:
				reasons[pr] = fmt.Sprintf("not written for %s", roundAge(age))
			default:
				continue
			}
			prs = append(prs, pr)
		}
		if len(prs) == 0 {
			continue
		}
		sort.Ints(prs)
		co := opts.Cleanup
		co.Population = population[i]
		// One PR's held lock (a run in progress, or a lock planted on
		// purpose) must not hold the nightly sweep for lock-timeout: it is
		// skipped at once and tried again by the next sweep.
		co.NoLockWait = true
		res, err := Run(ctx, Store{Bucket: tg.Bucket, Table: tg.Table}, tg.Stack, prs, co)
		for k := range res {
			res[k].Reason = reasons[res[k].PR]
		}
		rep.Results = append(rep.Results, res...)
		// A PR state kept on purpose (applied to, or cannot tell) is in
		// the report, not an error: the sweep goes on and succeeds.
		refused, rest := SplitRefusals(err)
		rep.Refused += len(refused)
		for _, r := range refused {
			var le *LockedError
			if errors.As(r, &le) {
				rep.Locked++
			}
		}
		if rest != nil {
			errs = append(errs, rest)
		}
	}
	return rep, errors.Join(errs...)
}

// findPRStates lists the objects under the scheme's prefix and keeps those
// whose key, or the PR key of an object kept beside it (statekey.MatchObject:
// .tflock, seed record, reviewed-plan records), the template matches; the other
// keys under the prefix are unmatched (sorted). n is how many objects lie
// under the prefix.
func findPRStates(ctx context.Context, b objectLister, k statekey.Keys) (states []prStateFound, unmatched []string, n int, err error) {
	objs, err := b.ListObjects(ctx, k.ListPrefix())
	if err != nil {
		return nil, nil, 0, fmt.Errorf("failed to list PR states under %q: %w", k.ListPrefix(), err)
	}
	byPR := map[int]time.Time{}
	for _, o := range objs {
		pr, ok := k.MatchObject(o.Key)
		if !ok {
			if o.Key != k.Production && !strings.HasPrefix(o.Key, k.Production+".") {
				unmatched = append(unmatched, o.Key)
			}
			continue
		}
		if w, seen := byPR[pr]; !seen || o.LastModified.After(w) {
			byPR[pr] = o.LastModified
		}
	}
	for pr, w := range byPR {
		states = append(states, prStateFound{pr: pr, lastWrite: w})
	}
	sort.Slice(states, func(i, j int) bool { return states[i].pr < states[j].pr })
	sort.Strings(unmatched)
	return states, unmatched, len(objs), nil
}

// closedPRs pages through the closed PRs, most recently updated first,
// until every candidate is found closed, the pages run out, or the page
// reaches PRs last updated well before the oldest candidate state was
// written: a PR is updated when it is closed, after its state was written,
// so no later page can hold a candidate.
func closedPRs(ctx context.Context, pulls PullRequestLister, repo string, candidates map[int]time.Time) (map[int]bool, int, error) {
	closed := map[int]bool{}
	unresolved := make(map[int]time.Time, len(candidates))
	for pr, w := range candidates {
		unresolved[pr] = w
	}
	requests := 0
	for page := 1; page != 0 && len(unresolved) > 0; {
		prs, next, err := pulls.ClosedPullRequests(ctx, repo, page)
		requests++
		if err != nil {
			return nil, requests, fmt.Errorf("failed to list the closed pull requests of %s: %w", repo, err)
		}
		for _, p := range prs {
			if _, ok := unresolved[p.Number]; ok {
				closed[p.Number] = true
				delete(unresolved, p.Number)
			}
		}
		if len(prs) > 0 && len(unresolved) > 0 {
			var oldestWrite time.Time
			for _, w := range unresolved {
				if oldestWrite.IsZero() || w.Before(oldestWrite) {
					oldestWrite = w
				}
			}
			if last := prs[len(prs)-1].UpdatedAt; !last.IsZero() && last.Before(oldestWrite.Add(-closedSlack)) {
				break
			}
		}
		page = next
	}
	return closed, requests, nil
}

func roundAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return d.Round(time.Minute).String()
}
