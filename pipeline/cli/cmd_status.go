package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/report"
)

var statusCommand = command{
	name:    "status",
	summary: "list every apply lock and Terraform state lock in the bucket and table: holder, run, commit, age, stale",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket), use(&c.EventOptions), use(&c.GitHubOptions), use(&c.OutputOptions)}
	},
	run: runStatus,
}

func runStatus(ctx context.Context, inv *invocation) error {
	runs, err := inv.runChecker()
	if err != nil {
		return err
	}
	locks, err := inv.listStackLocks(ctx, runs)
	if err != nil {
		return err
	}
	inv.rep.SetOutput("locks", fmt.Sprint(len(locks)))
	links := inv.ev.Links()
	inv.rep.AddStepSummary(statusSummary(locks, links))
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
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Kind, escape.Log(l.StateKey), escape.Log(l.ID), escape.Log(l.Operation), holderOf(l, links), orDash(ci.ShortSHA(escape.SHA(l.SHA))), orDash(l.Age), staleOf(l))
	}
	return w.Flush()
}

// holderOf names a lock's holder in a plain line: its run URL when it is
// one of this repository's runs, else escaped and marked unverified.
func holderOf(l applylock.LockEntry, links ci.Links) string {
	if l.RunURL != "" {
		return links.RunText(l.RunURL)
	}
	return orDash(escape.Log(l.Who))
}

func staleOf(l applylock.LockEntry) string {
	if l.Stale {
		return "yes: " + escape.Log(l.StaleReason)
	}
	return "no"
}

// statusSummary renders the locks as a markdown table; every field came
// from the store, so each is escaped (package escape), run URLs are links
// only to this repository's runs, and SHAs are shown only when they are.
func statusSummary(locks []applylock.LockEntry, links ci.Links) string {
	var b strings.Builder
	b.WriteString("### prstate status\n\n")
	if len(locks) == 0 {
		b.WriteString("No locks.\n")
		return b.String()
	}
	rows := make([][]string, 0, len(locks))
	for _, l := range locks {
		holder := links.Run(l.RunURL)
		if l.RunURL == "" {
			holder = orDash(escape.MarkdownText(l.Who))
		}
		commit := "-"
		if l.SHA != "" {
			commit = report.Code(ci.ShortSHA(escape.SHA(l.SHA)))
		}
		stale := "no"
		if l.Stale {
			stale = "yes: " + escape.MarkdownText(l.StaleReason)
		}
		rows = append(rows, []string{escape.MarkdownText(l.Kind), report.Code(l.StateKey), report.Code(l.ID), holder, commit, orDash(escape.MarkdownText(l.Age)), stale})
	}
	b.WriteString(report.Table([]string{"kind", "state", "lock ID", "holder", "commit", "age", "stale"}, rows))
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
