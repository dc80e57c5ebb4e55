package cli

import (
	"context"
	"fmt"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/report"
)

// The action's post-entrypoint runs the same image with the same inputs.
// The main step saves prstate_post=true (seen by the post step as
// STATE_prstate_post), so the process knows it is the post step: then it
// releases the lock the main step saved (STATE_lock_id), and nothing else.

// markMainStep tells a later post step of this action that it is one.
func (a *App) markMainStep(rep report.Reporter) {
	if a.Env("GITHUB_ACTIONS") == "true" {
		rep.SaveState("prstate_post", "true")
	}
}

// postStep releases the lock a main step took, if any.
func (a *App) postStep(ctx context.Context, rep report.Reporter) error {
	id := a.Env("STATE_lock_id")
	if id == "" {
		fmt.Fprintln(a.Stderr, "prstate: post step: no lock to release")
		return nil
	}
	inv, err := a.prepare(unlockCommand, []string{"--lock-id", id}, rep, ci.Once(a.Env, a.ReadFile))
	if err != nil {
		return fmt.Errorf("failed to release apply lock %s in the post step: %w", id, err)
	}
	fmt.Fprintf(a.Stderr, "prstate: post step: releasing apply lock %s\n", id)
	return runUnlock(ctx, inv)
}
