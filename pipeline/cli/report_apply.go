package cli

import (
	"context"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/report"
)

// applyReport starts the report of an apply from the supersede verdict:
// superseded or started, this run's commit and run, now. The caller adds
// what it knows of the lock (Lock: held, waited, behind whom) and, for
// run, the final outcome (ApplyApplied, ApplyFailed with Detail).
func (inv *invocation) applyReport(v applylock.Verdict) report.ApplyReport {
	r := report.ApplyReport{Outcome: report.ApplyStarted, Key: inv.cfg.Main().Keys.Production, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL, At: inv.app.Now()}
	if v.Superseded {
		r.Outcome, r.Newer = report.ApplySuperseded, v.Last
	}
	return r
}

// reportApply tells users how an apply went, where they look: the step
// summary, and with comment: true the apply section of the merged pull
// request's comment. Call it once per lock or run command; notes (markdown
// lines, e.g. the lock ID) go below the summary's table.
func (inv *invocation) reportApply(ctx context.Context, command string, r report.ApplyReport, notes ...string) {
	st := inv.cfg.Main()
	links := inv.ev.Links()
	s := report.Summary{Command: command, Links: links, Rows: []report.SummaryRow{r.SummaryRow(inv.stackLabel(st), links)}, Notes: notes}
	if r.Outcome == report.ApplySuperseded {
		s.Notes = append(s.Notes, "A newer commit started its apply first, so this older one was skipped (exit 0, output `superseded=true`). Nothing to do.")
	}
	inv.rep.AddStepSummary(report.RenderSummary(s))
	inv.comment(ctx, report.SectionApply, report.ApplySection(r, links))
}
