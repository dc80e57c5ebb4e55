package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/report"
)

var statusCommand = command{
	name:    "status",
	summary: "list every apply lock and Terraform state lock in the bucket and table: holder, run, commit, age, stale",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket), &c.GitHubOptions, &c.OutputOptions}
	},
	run: runStatus,
}

func runStatus(ctx context.Context, inv *invocation) error {
	store, err := inv.open(ctx, inv.cfg.Main())
	if err != nil {
		return err
	}
	runs, err := inv.runChecker()
	if err != nil {
		return err
	}
	locks, err := applylock.ListLocks(ctx, store.Bucket, tableOrNil(store), runs, inv.app.Now())
	if err != nil {
		return err
	}
	inv.rep.SetOutput("locks", fmt.Sprint(len(locks)))
	inv.rep.AddStepSummary(statusSummary(locks))
	if inv.cfg.JSON {
		if locks == nil {
			locks = []applylock.LockEntry{}
		}
		return inv.printJSON(locks)
	}
	if len(locks) == 0 {
		fmt.Fprintln(inv.stdout(), "no locks")
		return nil
	}
	w := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tSTATE\tLOCK ID\tOPERATION\tHOLDER\tCOMMIT\tAGE\tSTALE")
	for _, l := range locks {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Kind, l.StateKey, l.ID, l.Operation, holderOf(l), orDash(ci.ShortSHA(l.SHA)), orDash(l.Age), staleOf(l))
	}
	return w.Flush()
}

func holderOf(l applylock.LockEntry) string {
	if l.RunURL != "" {
		return l.RunURL
	}
	return orDash(l.Who)
}

func staleOf(l applylock.LockEntry) string {
	if l.Stale {
		return "yes: " + l.StaleReason
	}
	return "no"
}

func statusSummary(locks []applylock.LockEntry) string {
	var b strings.Builder
	b.WriteString("### prstate status\n\n")
	if len(locks) == 0 {
		b.WriteString("No locks.\n")
		return b.String()
	}
	rows := make([][]string, 0, len(locks))
	for _, l := range locks {
		rows = append(rows, []string{l.Kind, report.Code(l.StateKey), report.Code(l.ID), holderOf(l), orDash(ci.ShortSHA(l.SHA)), orDash(l.Age), staleOf(l)})
	}
	b.WriteString(report.Table([]string{"kind", "state", "lock ID", "holder", "commit", "age", "stale"}, rows))
	return b.String()
}

// tableOrNil avoids handing a nil storage.Table inside a non-nil interface.
func tableOrNil(s Store) applylock.LockItemDeleter {
	if s.Table == nil {
		return nil
	}
	return s.Table
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
