package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/statekey"
)

var planCommand = command{
	name:    "plan",
	summary: "PR step: the PR key, a backend-config file for terraform init, optionally a seed from production",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), c.prEvent(), use(&c.PlanOptions), use(&c.PlanJSONOptions), use(&c.GitHubOptions), use(&c.CommentOptions), use(&c.OutputOptions)}
	},
	run: runPlan,
}

// defaultBackendFile is written in the stack's directory, so the same
// relative name works in the container and in later steps on the runner.
const defaultBackendFile = "prstate.s3.tfbackend"

type planResult struct {
	plan.Target
	BackendConfig string           `json:"backend_config"`
	Seed          *plan.SeedResult `json:"seed,omitempty"`
	reviewed      *plan.ChangeSet  // plan-json read outside Actions, recorded once the plan is written
}

func runPlan(ctx context.Context, inv *invocation) error {
	if len(inv.cfg.Stacks) > 1 {
		return runPlanStacks(ctx, inv)
	}
	st := inv.cfg.Main()
	res, err := inv.writePlan(ctx, st)
	if err != nil {
		return err
	}
	t, reviewed := res.Target, res.reviewed
	if t.IsPR {
		inv.savePRInitCheck(st, t, res.BackendConfig)
	}
	inv.setOutputs(t)
	inv.rep.SetOutput("backend-config", res.BackendConfig)
	if inv.cfg.ExportEnv {
		inv.rep.SetEnv("TF_CLI_ARGS_init", "-backend-config="+res.BackendConfig)
		if t.Workspace != "" {
			inv.rep.SetEnv("TF_WORKSPACE", t.Workspace)
		}
	}
	inv.rep.AddStepSummary(inv.planSummary(st, res))
	if t.IsPR {
		inv.comment(ctx, report.SectionPlan, report.PlanSection(report.PlanReport{
			Key: t.Key, Workspace: t.Workspace, Production: st.Keys.Production, Seed: res.Seed,
			Commit: inv.ev.SHA, RunURL: inv.ev.RunURL, At: inv.app.Now(),
		}, inv.ev.Links()))
	}
	if reviewed != nil {
		if err := inv.saveReviewedPlan(ctx, t, *reviewed); err != nil {
			return err
		}
	} else if inv.cfg.PlanJSON != "" && t.IsPR {
		inv.deferPlanRecord()
	}
	if inv.cfg.JSON {
		return inv.printJSON(res)
	}
	fmt.Fprintln(inv.stdout(), t.Key)
	return nil
}

// writePlan resolves the stack's target for this event, seeds the PR
// state from production when asked, and writes the backend-config file
// init reads (in the stack's directory unless backend-config-file says
// otherwise).
func (inv *invocation) writePlan(ctx context.Context, st statekey.Stack) (planResult, error) {
	t, err := plan.ResolveTarget(st, inv.ev)
	if err != nil {
		return planResult{}, err
	}
	res := planResult{Target: t, BackendConfig: inv.cfg.BackendFile}
	path := res.BackendConfig
	if path == "" {
		res.BackendConfig = defaultBackendFile
		path = filepath.Join(st.Dir, defaultBackendFile)
	} else if !filepath.IsAbs(path) {
		// Written where the user said (relative to the current directory),
		// reported relative to the working directory, where terraform runs
		// with the output or TF_CLI_ARGS_init.
		path = filepath.Join(inv.app.Cwd, path)
		if rel, err := filepath.Rel(st.Dir, path); err == nil {
			res.BackendConfig = rel
		}
	}
	// Before any write: a destination prstate would refuse (a symlink)
	// must not leave a seeded PR state behind, nor a plan JSON that cannot
	// be recorded.
	if err := backend.CheckDestination(path); err != nil {
		return planResult{}, err
	}
	if inv.cfg.PlanJSON != "" && t.IsPR && inv.app.Env("GITHUB_ACTIONS") != "true" {
		if err := inv.checkPlanRecord(t); err != nil {
			return planResult{}, err
		}
		cs, err := inv.readPlanJSON(st.Dir)
		if err != nil {
			return planResult{}, err
		}
		res.reviewed = &cs
	}
	if inv.cfg.Seed == "production" && t.IsPR {
		store, err := inv.open(ctx, st)
		if err != nil {
			return planResult{}, err
		}
		seed, err := plan.Seed(ctx, inv.app.Clock, store.Bucket, store.Table, st.Keys.Production, t.Key)
		if err != nil {
			return planResult{}, fmt.Errorf("failed to seed %s from production: %w", t.Key, err)
		}
		res.Seed = &seed
		inv.logf("seed: %s", seed.Reason)
	}
	// Atomically, never through a symlink: init never reads half a file.
	if err := backend.WriteFile(path, []byte(plan.BackendConfig(st, t)), 0o644); err != nil {
		return planResult{}, err
	}
	return res, nil
}

func (inv *invocation) planSummary(st statekey.Stack, r planResult) string {
	result := report.SeedWords(r.Seed)
	if r.Workspace != "" {
		result = "workspace `" + r.Workspace + "`, " + result
	}
	return report.RenderSummary(report.Summary{Command: "plan", Links: inv.ev.Links(), Rows: []report.SummaryRow{
		{Stack: inv.stackLabel(st), Key: r.Key, Result: result, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL},
	}})
}
