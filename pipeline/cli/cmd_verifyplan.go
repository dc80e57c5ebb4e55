package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
)

var verifyPlanCommand = command{
	name:    "verify-plan",
	summary: "apply step: compare the apply-time plan (plan-json) with the reviewed plans of the pull requests this apply brings",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), use(&c.VerifyPlanOptions), use(&c.PlanJSONOptions), use(&c.LockStoreOptions), use(&c.GitHubOptions), use(&c.OutputOptions)}
	},
	run: runVerifyPlan,
}

// planMismatchError is verify-plan's failure with on-plan-change: fail
// (exit 1: the apply must not run).
type planMismatchError struct{ headline string }

func (e *planMismatchError) Error() string { return e.headline + " (on-plan-change: fail)" }

type verifyResult struct {
	Matches     bool              `json:"plan_matches"`
	PRs         []int             `json:"prs"`
	Unplanned   []int             `json:"not_planned_at_final_commit,omitempty"`
	Differences []plan.Difference `json:"differences,omitempty"`
	Shared      []plan.Difference `json:"shared,omitempty"`
	Drift       []string          `json:"drift,omitempty"`
	Headline    string            `json:"headline"`
}

// runVerifyPlan compares the apply-time plan with the union of the
// reviewed-plan records of the pull requests this apply brings.
func runVerifyPlan(ctx context.Context, inv *invocation) error {
	st := inv.cfg.Main()
	if inv.cfg.PlanJSON == "" {
		return usage.Errorf("verify-plan needs plan-json: the output of terraform show -json <planfile> of the apply-time plan")
	}
	now, err := inv.readPlanJSON(st.Dir)
	if err != nil {
		return err
	}
	store, err := inv.open(ctx, st)
	if err != nil {
		return err
	}
	prs, err := inv.appliedPRs(ctx, store)
	if err != nil {
		return err
	}
	for i := range prs {
		key, err := st.Keys.Render(prs[i].PR)
		if err != nil {
			return err
		}
		at := prs[i].HeadSHA
		if at == "" {
			at = "latest"
		}
		rec, found, err := plan.LoadReviewed(ctx, store.Bucket, key, at)
		if err != nil {
			return err
		}
		if found {
			prs[i].Record, prs[i].AtHead = &rec, true
			continue
		}
		if at == "latest" {
			continue
		}
		if rec, found, err = plan.LoadReviewed(ctx, store.Bucket, key, "latest"); err != nil {
			return err
		} else if found {
			prs[i].Record = &rec // an earlier commit's: compared, and said
		}
	}
	prod, err := plan.ProductionRef(ctx, store.Bucket, st.Keys.Production)
	if err != nil {
		return err
	}
	v := plan.Verify(now, prs, prod)
	return inv.reportVerify(v)
}

func (inv *invocation) reportVerify(v plan.Verdict) error {
	headline := report.VerifyHeadline(v)
	nums := make([]string, len(v.PRs))
	for i, p := range v.PRs {
		nums[i] = strconv.Itoa(p.PR)
	}
	inv.rep.SetOutput("plan-matches", strconv.FormatBool(v.Matches))
	inv.rep.SetOutput("plan-prs", strings.Join(nums, ","))
	inv.rep.AddStepSummary(report.VerifySummary(v, inv.ev.Links()))
	inv.logf("verify-plan: %s", headline)
	for _, d := range v.Differences {
		inv.logf("verify-plan: %s: %s (reviewed: %s; now: %s)%s", d.Address, d.Kind, orDash(d.Planned), orDash(d.Now), attrsSuffix(d.Attrs))
	}
	for _, p := range v.Unplanned() {
		inv.logf("verify-plan: #%d not planned at its final commit %s", p.PR, ci.OrWord(escape.SHA(p.HeadSHA), "(unknown)"))
	}
	for _, c := range v.Drift {
		inv.logf("verify-plan: drift (not a mismatch): %s %s", c.Address, c.ActionWords())
	}
	for _, d := range v.Restored {
		inv.logf("verify-plan: drift (not a mismatch): %s: %s", d.Address, d.Kind)
	}
	res := verifyResult{Matches: v.Matches, Differences: v.Differences, Shared: v.Shared, Headline: headline}
	for _, p := range v.PRs {
		res.PRs = append(res.PRs, p.PR)
	}
	for _, p := range v.Unplanned() {
		res.Unplanned = append(res.Unplanned, p.PR)
	}
	for _, c := range v.Drift {
		res.Drift = append(res.Drift, c.Address)
	}
	for _, d := range v.Restored {
		res.Drift = append(res.Drift, d.Address)
	}
	if inv.cfg.JSON {
		if err := inv.printJSON(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(inv.stdout(), escape.Log(headline))
	}
	if v.Matches {
		return nil
	}
	if inv.cfg.OnPlanChange == "fail" {
		return &planMismatchError{headline: headline}
	}
	inv.rep.Warning("verify-plan: " + headline)
	return nil
}

func attrsSuffix(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return "; values differ: " + strings.Join(a, ", ")
}

// appliedPRs finds the pull requests this apply brings, each with its
// final head commit: --pr by hand (the latest record counts; the head
// from the pulls API when a token can ask), a pull request event's own
// (GitLab's CI_MERGE_REQUEST_IID), or on GitHub the merged pull requests
// of every commit since the ledger's last applied commit.
func (inv *invocation) appliedPRs(ctx context.Context, store Store) ([]plan.ReviewedPR, error) {
	ev := inv.ev
	github := ev.Repository != "" && !strings.HasPrefix(ev.Name, "gitlab:") && inv.cfg.GitHubToken != ""
	if len(inv.cfg.PRs) > 0 {
		out := make([]plan.ReviewedPR, len(inv.cfg.PRs))
		for i, pr := range inv.cfg.PRs {
			out[i].PR = pr
			if github {
				c, err := inv.githubClient(githubTimeout)
				if err != nil {
					return nil, err
				}
				head, err := c.PullHead(ctx, ev.Repository, pr)
				if err != nil {
					return nil, err
				}
				if escape.IsSHA(head) {
					out[i].HeadSHA = head
				}
			}
		}
		return out, nil
	}
	if ev.IsPullRequest() {
		return []plan.ReviewedPR{{PR: ev.PR, HeadSHA: ev.SHA}}, nil
	}
	if !github {
		return nil, usage.Errorf("verify-plan cannot find the pull requests this apply brings: pass --pr N[,M] (outside GitHub), or github-token on GitHub (contents: read, pull-requests: read)")
	}
	if !escape.IsSHA(ev.SHA) {
		return nil, usage.Errorf("verify-plan needs this run's commit SHA to find the pull requests it brings")
	}
	since, err := inv.lastApplied(ctx, store)
	if err != nil {
		return nil, err
	}
	c, err := inv.githubClient(githubTimeout)
	if err != nil {
		return nil, err
	}
	commits, err := c.CommitsBetween(ctx, ev.Repository, since, ev.SHA)
	if err != nil {
		return nil, err
	}
	heads := map[int]string{}
	for _, sha := range commits {
		pulls, err := c.MergedPullsForCommit(ctx, ev.Repository, sha)
		if err != nil {
			return nil, err
		}
		for _, p := range pulls {
			if escape.IsSHA(p.HeadSHA) {
				heads[p.Number] = p.HeadSHA
			} else if _, ok := heads[p.Number]; !ok {
				heads[p.Number] = ""
			}
		}
	}
	out := make([]plan.ReviewedPR, 0, len(heads))
	for pr, head := range heads {
		out = append(out, plan.ReviewedPR{PR: pr, HeadSHA: head})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PR < out[j].PR })
	inv.logf("verify-plan: %d commit(s) since %s bring %s", len(commits), ci.OrWord(ci.ShortSHA(since), "the first apply"), report.PRList(out))
	return out, nil
}

// lastApplied is the commit applied before this one: the ledger's (read,
// never written), or the one before it when the lock already recorded
// this commit.
func (inv *invocation) lastApplied(ctx context.Context, store Store) (string, error) {
	st := inv.cfg.Main()
	rec, err := applylock.NewLedger(store.Bucket, store.Table, inv.cfg.LockBackend, st.Keys.Production).Read(ctx)
	if err != nil {
		return "", err
	}
	since := rec.Entry.SHA
	if since == inv.ev.SHA {
		since = rec.Entry.Previous
	}
	if since != "" && !escape.IsSHA(since) {
		return "", fmt.Errorf("the apply ledger's previous commit is not a commit SHA; check who wrote the ledger")
	}
	return since, nil
}
