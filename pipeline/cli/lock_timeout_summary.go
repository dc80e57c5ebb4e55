package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/report"
)

// reportLockTimeout writes the step summary of a wait for the apply lock
// that timed out (exit 3): which lock, how long, who holds it, and how to
// inspect or free it. Other errors write nothing here.
func (inv *invocation) reportLockTimeout(command string, err error) {
	var te *applylock.LockTimeoutError
	if !errors.As(err, &te) {
		return
	}
	st := inv.cfg.Main()
	held := "unreachable"
	if te.Holder != "" {
		held = "held by " + escape.MarkdownText(te.Holder)
	}
	notes := []string{"Inspect it with `prstate status`."}
	if te.LockID != "" {
		notes = append(notes, "If its holder is gone: `prstate force-unlock --lock-id` "+report.Code(te.LockID)+".")
	}
	inv.rep.AddStepSummary(report.RenderSummary(report.Summary{Command: command, Links: inv.ev.Links(), Rows: []report.SummaryRow{{
		Stack: inv.stackLabel(st), Key: st.Keys.Production, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL,
		Result: fmt.Sprintf("timed out after %s waiting for the apply lock (exit 3), %s", te.Waited.Truncate(time.Second), held),
	}}, Notes: notes}))
}
