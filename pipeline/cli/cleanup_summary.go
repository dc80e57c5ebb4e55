package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/report"
)

// printCleanup prints one line per PR state, and the resources a refused
// deletion would have orphaned.
func printCleanup(w io.Writer, dry bool, results []cleanup.Result) {
	verb := "removed"
	if dry {
		verb = "would remove"
	}
	if len(results) == 0 {
		fmt.Fprintln(w, "no PR state to remove")
	}
	// Keys, reasons and resource addresses came from S3 (a PR job writes
	// its own state): each is escaped for the line.
	for _, r := range results {
		why := ""
		if r.Reason != "" {
			why = " [" + escape.Log(r.Reason) + "]"
		}
		key := escape.Log(r.Key)
		switch {
		case r.Skipped != "":
			fmt.Fprintf(w, "skipped %s (PR #%d)%s: %s\n", key, r.PR, why, escape.Log(r.Skipped))
			for _, a := range r.Orphans {
				fmt.Fprintf(w, "  would orphan %s\n", escape.Log(a))
			}
		case r.Error != "":
			fmt.Fprintf(w, "failed %s (PR #%d)%s: %d version(s), %s removed, %d left: %s\n", key, r.PR, why, r.Versions, humanBytes(r.Bytes), r.Left, escape.Log(r.Error))
		default:
			fmt.Fprintf(w, "%s %s (PR #%d)%s: %d version(s), %s, %d item(s)\n", verb, key, r.PR, why, r.Versions, humanBytes(r.Bytes), len(r.Items))
		}
	}
}

// cleanupSummary is the step summary table.
func cleanupSummary(title, preface string, dry bool, results []cleanup.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s", title)
	if dry {
		b.WriteString(" (dry run: nothing deleted)")
	}
	b.WriteString("\n\n")
	if preface != "" {
		b.WriteString(preface + "\n\n")
	}
	if len(results) == 0 {
		b.WriteString("No PR state to remove.\n")
		return b.String()
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		keys := make([]string, 0, len(r.Keys))
		for _, k := range r.Keys {
			keys = append(keys, report.Code(k))
		}
		if len(keys) == 0 {
			keys = append(keys, report.Code(r.Key)+" (nothing there)")
		}
		why := "-"
		switch {
		case r.Skipped != "":
			why = escape.MarkdownText(r.Skipped)
			if len(r.Orphans) > 0 {
				orphans := make([]string, len(r.Orphans))
				for i, a := range r.Orphans {
					orphans[i] = report.Code(a)
				}
				why += ": " + strings.Join(orphans, ", ")
			}
		case r.Error != "":
			why = fmt.Sprintf("failed, %d version(s) left: %s", r.Left, escape.MarkdownText(r.Error))
		}
		pr := fmt.Sprintf("#%d", r.PR)
		if r.Reason != "" {
			pr += " (" + escape.MarkdownText(r.Reason) + ")"
		}
		rows = append(rows, []string{pr, strings.Join(keys, "<br>"), fmt.Sprint(r.Versions), humanBytes(r.Bytes), fmt.Sprint(len(r.Items)), why})
	}
	b.WriteString(report.Table([]string{"PR", "keys", "versions removed", "bytes freed", "items", "skipped, and why"}, rows))
	return b.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
