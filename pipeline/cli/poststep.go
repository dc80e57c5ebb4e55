package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/statekey"
)

// The action's post-entrypoint runs the same image with the same inputs.
// The main step saves prstate_post=true (seen by the post step as
// STATE_prstate_post), so the process knows it is the post step: then it
// checks the init of the PR plan the main step prepared (STATE_prstate_pr_init)
// and releases the lock the main step saved (STATE_lock_id), and nothing else.

// markMainStep tells a later post step of this action that it is one.
func (a *App) markMainStep(rep runner.Reporter) {
	if a.Env("GITHUB_ACTIONS") == "true" {
		rep.SaveState("prstate_post", "true")
	}
}

// postStep checks a PR plan's init and releases the lock a main step took, if any.
func (a *App) postStep(ctx context.Context, rep runner.Reporter) error {
	var checkErr error
	raw := a.Env("STATE_prstate_pr_init")
	if raw != "" {
		checkErr = a.checkPRInit(raw)
	}
	if a.Env("STATE_prstate_plan_json") == "true" && raw != "" {
		checkErr = errors.Join(checkErr, a.postPlanJSON(ctx, rep, checkErr))
	}
	id := a.Env("STATE_lock_id")
	if id == "" {
		fmt.Fprintln(a.Stderr, "prstate: post step: no lock to release")
		return checkErr
	}
	inv, err := a.prepare(unlockCommand, []string{"--lock-id", id}, rep, ci.Once(a.Env, a.ReadFile))
	if err != nil {
		return errors.Join(checkErr, fmt.Errorf("failed to release apply lock %s in the post step: %w", id, err))
	}
	fmt.Fprintf(a.Stderr, "prstate: post step: releasing apply lock %s\n", id)
	return errors.Join(checkErr, runUnlock(ctx, inv))
}

// postPlanJSON records the reviewed plan in the post step, unless the
// init check failed (the plan did not run on the PR state).
func (a *App) postPlanJSON(ctx context.Context, rep runner.Reporter, checkErr error) error {
	if checkErr != nil {
		fmt.Fprintln(a.Stderr, "prstate: post step: no reviewed plan recorded: the plan did not run on the pull request's state")
		return nil
	}
	inv, err := a.prepare(planCommand, nil, rep, ci.Once(a.Env, a.ReadFile))
	if err != nil {
		return fmt.Errorf("failed to record the reviewed plan in the post step: %w", err)
	}
	return a.postRecordPlan(ctx, inv)
}

// savePRInitCheck saves for the post step what the PR job's init must
// configure in the stack's directory.
func (inv *invocation) savePRInitCheck(st statekey.Stack, t plan.Target, file string) {
	inv.savePRInitChecks([]backend.PRInit{inv.prInit(st, t, file)})
}

// prInit is what the PR job's init must configure in the stack's directory.
func (inv *invocation) prInit(st statekey.Stack, t plan.Target, file string) backend.PRInit {
	r := st.Config()
	return backend.PRInit{
		Dir: fsPath(st.Dir), Display: displayDir(inv.app.Cwd, st.Dir), Bucket: r.Bucket(),
		Key: plan.KeySetting(st, t), Workspace: t.Workspace, Production: r.Key(), BackendFile: file,
	}
}

// savePRInitChecks saves for the post step what the PR job's init must
// configure in each stack's directory.
func (inv *invocation) savePRInitChecks(want []backend.PRInit) {
	if inv.app.Env("GITHUB_ACTIONS") != "true" || len(want) == 0 {
		return
	}
	raw, err := json.Marshal(want)
	if err != nil {
		inv.logf("cannot save the init check for the post step: %v", err)
		return
	}
	inv.rep.SaveState("prstate_pr_init", string(raw))
}

// checkPRInit is the post step of plan: terraform init must have
// configured the PR state in every working directory the plan prepared. A
// PR plan never silently runs on production: when the last init's record
// (.terraform/terraform.tfstate) names anything else, the job fails here,
// naming the fix.
func (a *App) checkPRInit(raw string) error {
	var wants []backend.PRInit
	if err := json.Unmarshal([]byte(raw), &wants); err != nil {
		return fmt.Errorf("post step: cannot read what the plan step saved (STATE_prstate_pr_init): %v", err)
	}
	var failures []string
	for _, w := range wants {
		res, err := backend.CheckPRInit(a.FS, w, a.Env)
		switch {
		case err != nil:
			failures = append(failures, err.Error())
		case res.OK:
			fmt.Fprintf(a.Stderr, "prstate: post step: %s\n", res.Msg)
		default:
			failures = append(failures, res.Msg)
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("the PR plan did not run on the pull request's state: %s", strings.Join(failures, "; "))
	}
	return nil
}
