package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/github"
	"github.com/prstate/prstate/pipeline/usage"
)

var sweepCommand = command{
	name:    "sweep",
	summary: "scheduled: remove the PR states of closed pull requests (and, with --older-than, stale ones)",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), use(&c.EventOptions), use(&c.LockTimeoutOptions), use(&c.ForceOptions), use(&c.DryRunOptions), use(&c.SweepOptions), use(&c.GitHubOptions), use(&c.OutputOptions)}
	},
	run: runSweep,
}

// sweepReport is what sweep prints with --json.
type sweepReport struct {
	Deleted int  `json:"deleted"`
	DryRun  bool `json:"dry_run"`
	cleanup.SweepReport
}

// githubPulls adapts the GitHub client to what a sweep asks.
type githubPulls struct{ c *github.Client }

func (g githubPulls) ClosedPullRequests(ctx context.Context, repo string, page int) ([]cleanup.ClosedPullRequest, int, error) {
	prs, next, err := g.c.ClosedPullRequests(ctx, repo, page)
	out := make([]cleanup.ClosedPullRequest, len(prs))
	for i, p := range prs {
		out[i] = cleanup.ClosedPullRequest{Number: p.Number, UpdatedAt: p.UpdatedAt}
	}
	return out, next, err
}

func runSweep(ctx context.Context, inv *invocation) error {
	opts := cleanup.SweepOptions{Cleanup: inv.cleanupOptions(), OlderThan: inv.cfg.OlderThan}
	if inv.cfg.GitHubToken != "" {
		c, err := inv.githubClient(0)
		if err != nil {
			return err
		}
		opts.Pulls = githubPulls{c}
		opts.Repo = inv.ev.Repository
		if opts.Repo == "" {
			opts.Repo = inv.app.Env("GITHUB_REPOSITORY")
		}
	} else if inv.cfg.OlderThan > 0 {
		inv.logf("no github-token: sweeping by age alone (PR states not written for %s)", durationWords(inv.cfg.OlderThan))
	}
	var targets []cleanup.SweepTarget
	for _, st := range inv.cfg.Stacks {
		store, err := inv.open(ctx, st)
		if err != nil {
			return err
		}
		targets = append(targets, cleanup.SweepTarget{Stack: st, Bucket: store.Bucket, Table: store.Table})
	}
	rep, err := cleanup.Sweep(ctx, targets, opts)
	var ue *usage.Error
	if errors.As(err, &ue) {
		return err
	}
	for _, r := range rep.Results {
		if r.Skipped != "" && r.Error == "" {
			inv.rep.Warning(fmt.Sprintf("sweep kept %s (PR #%d): %s", escape.Log(r.Key), r.PR, escape.Log(r.Skipped)))
		}
	}
	if rep.UnmatchedCount > 0 {
		// Keys a PR job (or a person) wrote under the PR prefix in a form
		// the template does not produce: never deleted, listed for a human.
		names := make([]string, len(rep.Unmatched))
		for i, k := range rep.Unmatched {
			names[i] = escape.Log(k)
		}
		more := ""
		if n := rep.UnmatchedCount - len(rep.Unmatched); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		inv.rep.Warning(fmt.Sprintf("sweep: %d key(s) under the PR prefix do not match the key template and are never deleted: %s%s; remove them by hand if they are not needed",
			rep.UnmatchedCount, strings.Join(names, ", "), more))
	}
	out := sweepReport{DryRun: inv.cfg.DryRun, SweepReport: rep}
	out.Deleted = countDeleted(rep.Results)
	return inv.finishCleanup("prstate sweep", sweepPreface(rep, inv.cfg.OlderThan), inv.cfg.DryRun, rep.Results, out, sweepError(err))
}

// sweepPreface says what the sweep looked at.
func sweepPreface(rep cleanup.SweepReport, olderThan time.Duration) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("%d PR state(s) found", rep.PRStates))
	if rep.AgeOnly {
		parts = append(parts, "no github-token: by age alone")
	} else {
		parts = append(parts, fmt.Sprintf("%d of their PRs closed (%d GitHub request(s))", len(rep.ClosedPRs), rep.GitHubRequests))
	}
	if olderThan > 0 {
		parts = append(parts, "also removing PR states not written for "+durationWords(olderThan))
	}
	if n := rep.Refused - rep.Locked; n > 0 {
		parts = append(parts, fmt.Sprintf("%d kept: applied to or cannot tell, see below (not an error)", n))
	}
	if rep.Locked > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped: locked, the next sweep tries again (not an error)", rep.Locked))
	}
	if rep.UnmatchedCount > 0 {
		parts = append(parts, fmt.Sprintf("%d key(s) under the PR prefix not matching the template: listed as a warning, never deleted", rep.UnmatchedCount))
	}
	return strings.Join(parts, "; ")
}

// sweepError keeps exit 3 only when every failure was a lock wait; a
// failed PR state makes the sweep exit 1. (Refused PR states are not in
// err: Sweep reports them, and they are warnings.)
func sweepError(err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = flatten(j.Unwrap())
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var te *cleanup.StateLockTimeoutError
		if !errors.As(e, &te) {
			return errors.New(err.Error())
		}
	}
	return err
}

func flatten(errs []error) []error {
	var out []error
	for _, e := range errs {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(j.Unwrap())...)
		} else {
			out = append(out, e)
		}
	}
	return out
}
