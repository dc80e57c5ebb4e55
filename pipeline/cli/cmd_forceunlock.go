package cli

import (
	"context"
	"fmt"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/usage"
)

var forceUnlockCommand = command{
	name:    "force-unlock",
	summary: "remove an apply lock or Terraform state lock by --lock-id, after backing up the state; refuses a live holder without --force",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey | needOne), use(&c.EventOptions), use(&c.LockIDOptions), use(&c.ForceOptions), use(&c.GitHubOptions), use(&c.OutputOptions)}
	},
	run: runForceUnlock,
}

func runForceUnlock(ctx context.Context, inv *invocation) error {
	if inv.cfg.LockID == "" {
		return &usage.Error{Msg: "force-unlock needs --lock-id (prstate status lists the IDs)"}
	}
	st := inv.cfg.Main()
	store, err := inv.open(ctx, st)
	if err != nil {
		return err
	}
	runs, err := inv.runChecker()
	if err != nil {
		return err
	}
	res, err := applylock.ForceUnlock(ctx, store.Bucket, store.Table, st.Keys, inv.cfg.LockID, runs, inv.cfg.Force, inv.app.Now())
	if err != nil {
		return err
	}
	l := res.Lock
	backup := "no state object to back up"
	if res.Backup != "" {
		backup = "state backed up to s3://" + st.Backend.Bucket + "/" + res.Backup
	}
	// Every field of the lock came from the store: escaped for the line,
	// and as markdown text for the summary.
	msg := fmt.Sprintf("removed %s lock %s (%s) of %s held by %s; holder %s; %s", l.Kind, escape.Log(l.ID), escape.Log(l.Where), escape.Log(l.StateKey), holderOf(l, inv.ev.Links()), escape.Log(res.Liveness), escape.Log(backup))
	inv.rep.Warning("force-unlock: " + msg)
	inv.rep.SetOutput("backup-key", res.Backup)
	inv.rep.AddStepSummary("### prstate force-unlock\n\n" + escape.MarkdownLine(escape.MarkdownText(msg)) + "\n")
	if inv.cfg.JSON {
		return inv.printJSON(res)
	}
	fmt.Fprintln(inv.stdout(), msg)
	return nil
}
