package cli

import (
	"context"
	"fmt"

	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/report"
)

var keyCommand = command{
	name:    "key",
	summary: "print the state key for this CI event (the PR key on a pull request)",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needKey | needOne), c.prEvent(), use(&c.OutputOptions)}
	},
	run: runKey,
}

func runKey(_ context.Context, inv *invocation) error {
	t, err := plan.ResolveTarget(inv.cfg.Main(), inv.ev)
	if err != nil {
		return err
	}
	inv.setOutputs(t)
	result := "production key"
	if t.IsPR {
		result = "PR key of #" + inv.ev.PRNumberString()
	}
	if t.Workspace != "" {
		result += ", workspace `" + t.Workspace + "`"
	}
	st := inv.cfg.Main()
	inv.rep.AddStepSummary(report.RenderSummary(report.Summary{Command: "key", Links: inv.ev.Links(), Rows: []report.SummaryRow{
		{Stack: inv.stackLabel(st), Key: t.Key, Result: result, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL},
	}}))
	if inv.cfg.JSON {
		return inv.printJSON(t)
	}
	fmt.Fprintln(inv.stdout(), t.Key)
	return nil
}
