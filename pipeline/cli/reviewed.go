package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
)

// The reviewed-plan record: on a pull request, plan (with plan-json) reads
// the output of `terraform show -json <planfile>` and stores its normalized
// change set beside the PR state, at the PR's head commit. Under GitHub
// Actions the plan step runs before terraform plan, so its post step
// records it (STATE_prstate_plan_json); elsewhere `prstate plan
// --plan-json FILE`, run after terraform show, records it at once.

// deferPlanRecord leaves the record to the post step (GitHub Actions,
// where the action's post step runs after the job's terraform plan).
func (inv *invocation) deferPlanRecord() {
	inv.rep.SaveState("prstate_plan_json", "true")
	inv.logf("plan-json: the post step records %s once the job's plan has run", inv.cfg.PlanJSON)
}

// openPlanJSON opens the stack's plan JSON; missing is true when there is
// no such file.
func (inv *invocation) openPlanJSON(dir string) (f fs.File, path string, missing bool, err error) {
	path = inv.cfg.planJSONPath(dir)
	f, err = inv.app.FS.Open(fsPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, path, true, usage.Errorf("plan-json %s: no such file (run terraform show -json <planfile> > %s first)", path, inv.cfg.PlanJSON)
	}
	if err != nil {
		return nil, path, false, usage.Errorf("plan-json %s: %v", path, err)
	}
	return f, path, false, nil
}

// readPlanJSON reads the stack's plan JSON into a change set: bad input
// (exit 2) when it is missing or not a saved plan's JSON.
func (inv *invocation) readPlanJSON(dir string) (plan.ChangeSet, error) {
	f, path, _, err := inv.openPlanJSON(dir)
	if err != nil {
		return plan.ChangeSet{}, err
	}
	defer f.Close()
	cs, err := plan.ReadChangeSet(f)
	if err != nil {
		return plan.ChangeSet{}, usage.Errorf("plan-json %s: %v", path, err)
	}
	return cs, nil
}

// checkPlanRecord checks what a record needs before anything is written:
// a pull request with a head commit.
func (inv *invocation) checkPlanRecord(t plan.Target) error {
	if !t.IsPR {
		return usage.Errorf("plan-json records a pull request's reviewed plan: this run is not a pull request's (use --pr outside CI, or verify-plan on the default branch)")
	}
	if !escape.IsSHA(inv.ev.SHA) {
		return usage.Errorf("plan-json: the pull request's head commit is not known (no commit SHA in the event; outside CI set GITHUB_SHA)")
	}
	return nil
}

// recordReviewedPlan reads the plan JSON and stores the record.
func (inv *invocation) recordReviewedPlan(ctx context.Context) error {
	t, err := plan.ResolveTarget(inv.cfg.Main(), inv.ev)
	if err != nil {
		return err
	}
	if err := inv.checkPlanRecord(t); err != nil {
		return err
	}
	cs, err := inv.readPlanJSON(inv.cfg.Main().Dir)
	if err != nil {
		return err
	}
	return inv.saveReviewedPlan(ctx, t, cs)
}

// saveReviewedPlan stores the reviewed-plan record of this pull request's
// plan, and shows its change set in the sticky comment and the summary.
func (inv *invocation) saveReviewedPlan(ctx context.Context, t plan.Target, cs plan.ChangeSet) error {
	st := inv.cfg.Main()
	store, err := inv.open(ctx, st)
	if err != nil {
		return err
	}
	ref, enc, err := plan.PRStateRef(ctx, store.Bucket, t.Key)
	if err != nil {
		return err
	}
	rec := plan.Reviewed{
		PR: t.PR, HeadSHA: inv.ev.SHA, BaseSHA: inv.ev.BaseSHA, Base: ref,
		RunURL: inv.ev.RunURL, RecordedAt: inv.app.Now().UTC(), Changes: cs,
	}
	if err := plan.SaveReviewed(ctx, store.Bucket, t.Key, rec, enc); err != nil {
		return err
	}
	inv.logf("reviewed plan of #%d at %s recorded: %d resource change(s), %d output change(s), %d drifted; on %s",
		rec.PR, rec.HeadSHA, len(cs.Resources), len(cs.Outputs), len(cs.Drift), rec.Base.Words())
	inv.rep.SetOutput("plan-recorded", "true")
	section := report.ReviewedPlanSection(rec, inv.ev.Links())
	inv.rep.AddStepSummary("### prstate reviewed plan\n\n" + section)
	inv.comment(ctx, report.SectionReviewedPlan, section)
	return nil
}

// postRecordPlan is the plan's post step part: record the reviewed plan
// the job's terraform show -json wrote. A missing file (the plan failed)
// is a warning: the apply's verify-plan then finds no record at this
// commit and says so.
func (a *App) postRecordPlan(ctx context.Context, inv *invocation) error {
	if _, path, missing, err := inv.openPlanJSON(inv.cfg.Main().Dir); missing {
		inv.rep.Warning(fmt.Sprintf("plan-json %s was not written (did the plan fail?): no reviewed plan recorded for this commit", path))
		return nil
	} else if err != nil {
		return err
	}
	return inv.recordReviewedPlan(ctx)
}
