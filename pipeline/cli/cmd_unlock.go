package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
)

var unlockCommand = command{
	name:    "unlock",
	summary: "release our apply lock (--lock-id, else the ID the lock step saved); a lock someone else holds is left alone and reported lost",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), c.prEvent(), &ApplyEventGuard{}, use(&c.LockStoreOptions), use(&c.LockIDOptions), use(&c.OutputOptions)}
	},
	run: runUnlock,
}

type unlockResult struct {
	LockID   string `json:"lock_id"`
	Released bool   `json:"released"`
	HeldBy   string `json:"held_by,omitempty"`
}

func runUnlock(ctx context.Context, inv *invocation) error {
	id := inv.cfg.LockID
	if id == "" {
		id = inv.app.Env("STATE_lock_id")
	}
	if id == "" {
		return &usage.Error{Msg: "no lock ID: pass --lock-id (the lock step prints it and saves it for the post step)"}
	}
	if len(inv.cfg.Stacks) > 1 {
		return runUnlockStacks(ctx, inv, id)
	}
	store, _, err := inv.applyLockStore(ctx)
	if err != nil {
		return err
	}
	res, err := applylock.ReleaseByID(context.WithoutCancel(ctx), store, id, inv.app.Clock)
	out := unlockResult{LockID: id, Released: res.Released, HeldBy: res.Holder}
	var lostErr error
	switch {
	case errors.Is(err, applylock.ErrLockLost):
		// Someone took it over while our job still held it (presumed
		// dead): theirs now, and what we did under it may have overlapped.
		lostErr = fmt.Errorf("lost the apply lock %s while our job held it, another apply may have overlapped: it is held by %s, not by our lock ID %s (left alone)", store.Where(), res.Holder, id)
	case err != nil:
		return err
	case res.Released:
		inv.logf("released the apply lock %s (lock ID %s)", store.Where(), id)
	default:
		inv.logf("the apply lock %s is not held: nothing to release", store.Where())
	}
	result := "not held: nothing to release"
	switch {
	case res.Released:
		result = "released lock `" + id + "`"
	case res.Holder != "":
		result = "lost: held by " + escape.MarkdownText(res.Holder) + ", left alone; may have overlapped"
	}
	st := inv.cfg.Main()
	inv.rep.AddStepSummary(report.RenderSummary(report.Summary{Command: "unlock", Links: inv.ev.Links(), Rows: []report.SummaryRow{
		{Stack: inv.stackLabel(st), Key: st.Keys.Production, Result: result, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL},
	}}))
	if inv.cfg.JSON {
		if err := inv.printJSON(out); err != nil {
			return err
		}
		return lostErr
	}
	switch {
	case res.Released:
		fmt.Fprintln(inv.stdout(), "released", id)
	case res.Holder != "":
		fmt.Fprintln(inv.stdout(), "lost: held by someone else:", res.Holder)
	default:
		fmt.Fprintln(inv.stdout(), "not held", id)
	}
	return lostErr
}
