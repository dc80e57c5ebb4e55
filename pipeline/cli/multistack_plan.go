package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
)

// stackPlan is plan's result for one of several stacks.
type stackPlan struct {
	WorkingDirectory string `json:"working_directory"`
	planResult
}

// runPlanStacks is plan over several stacks: one PR backend file in each
// stack's directory (and each its seed), and output plans: a JSON list
// with each stack's working directory, key, workspace and backend file
// (fromJSON(steps.x.outputs.plans)). All backend files have the
// same name relative to their stack, so backend-config (and
// TF_CLI_ARGS_init with export-env) serve every stack.
func runPlanStacks(ctx context.Context, inv *invocation) error {
	if inv.cfg.PlanJSON != "" {
		return usage.Errorf("plan-json records one stack's reviewed plan, but working-directory names %d stacks: record each in a job of its own (a matrix over prstate stacks)", len(inv.cfg.Stacks))
	}
	if inv.cfg.BackendFile != "" && inv.cfg.BackendFile != defaultBackendFile {
		return usage.Errorf("backend-config-file %q names one file, but working-directory names %d stacks: leave it unset (each stack gets %s in its directory)", inv.cfg.BackendFile, len(inv.cfg.Stacks), defaultBackendFile)
	}
	var (
		plans []stackPlan
		inits []backend.PRInit
		rows  []report.SummaryRow
	)
	for _, st := range inv.cfg.Stacks {
		res, err := inv.writePlan(ctx, st)
		if err != nil {
			return fmt.Errorf("%s: %w", displayDir(inv.app.Cwd, st.Dir), err)
		}
		dir := displayDir(inv.app.Cwd, st.Dir)
		plans = append(plans, stackPlan{WorkingDirectory: dir, planResult: res})
		if res.IsPR {
			inits = append(inits, inv.prInit(st, res.Target, res.BackendConfig))
		}
		result := report.SeedWords(res.Seed)
		if res.Workspace != "" {
			result = "workspace `" + res.Workspace + "`, " + result
		}
		rows = append(rows, report.SummaryRow{Stack: inv.stackLabel(st), Key: res.Key, Result: result, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL})
		if res.IsPR {
			inv.commentStack(ctx, st, report.SectionPlan, report.PlanSection(report.PlanReport{
				Key: res.Key, Workspace: res.Workspace, Production: st.Keys.Production, Seed: res.Seed,
				Commit: inv.ev.SHA, RunURL: inv.ev.RunURL, At: inv.app.Now(),
			}, inv.ev.Links()))
		}
	}
	inv.savePRInitChecks(inits)
	raw, err := json.Marshal(plans)
	if err != nil {
		return fmt.Errorf("failed to encode the plans output: %w", err)
	}
	first := plans[0]
	inv.rep.SetOutput("plans", string(raw))
	inv.rep.SetOutput("backend-config", first.BackendConfig)
	inv.rep.SetOutput("workspace", first.Workspace)
	inv.rep.SetOutput("pr-number", inv.ev.PRNumberString())
	inv.rep.SetOutput("is-pull-request", fmt.Sprint(first.IsPR))
	if inv.cfg.ExportEnv {
		inv.rep.SetEnv("TF_CLI_ARGS_init", "-backend-config="+first.BackendConfig)
		if first.Workspace != "" {
			inv.rep.SetEnv("TF_WORKSPACE", first.Workspace)
		}
	}
	inv.rep.AddStepSummary(report.RenderSummary(report.Summary{Command: "plan", Links: inv.ev.Links(), Rows: rows}))
	if inv.cfg.JSON {
		return inv.printJSON(plans)
	}
	for _, p := range plans {
		fmt.Fprintln(inv.stdout(), p.Key)
	}
	return nil
}
