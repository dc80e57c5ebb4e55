// Package report renders every markdown surface of a command: the step
// summary (summary.go), the sticky pull request comment (comment.go), the
// reviewed-plan sections (reviewed.go) and doctor's table (doctor.go).
// Package runner writes them where the CI runner reads them. See
// ARCHITECTURE.md.
package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/plan"
)

// Summary is a command's step summary: one row per stack.
type Summary struct {
	Command string
	Links   ci.Links
	Rows    []SummaryRow
	Notes   []string // markdown lines below the table: warnings, next steps
}

// SummaryRow is what a command did to one stack.
type SummaryRow struct {
	Stack  string // directory relative to the repository
	Key    string // the state key the command worked on
	Lock   LockSummary
	Result string // markdown: what happened
	Commit string // this run's commit
	RunURL string // this run
}

// LockSummary is the apply lock as a row shows it; zero when the command
// takes no lock.
type LockSummary struct {
	Held         bool          // this run held the apply lock
	Waited       time.Duration // how long this run waited for it
	BehindRunURL string        // the holder this run waited behind
	BehindCommit string        // that holder's commit
	TookOver     bool          // the holder was stale and this run took over
}

func (l LockSummary) render(links ci.Links) string {
	if !l.Held && l.Waited == 0 && l.BehindRunURL == "" {
		return "-"
	}
	var parts []string
	if l.Held {
		parts = append(parts, "held")
	}
	switch {
	case l.Waited > 0 || l.BehindRunURL != "":
		w := "waited " + FormatWait(l.Waited)
		if l.BehindRunURL != "" {
			w += " behind " + links.Run(l.BehindRunURL)
			if l.BehindCommit != "" {
				w += " (" + links.Commit(l.BehindCommit) + ")"
			}
		}
		parts = append(parts, w)
	case l.Held:
		parts = append(parts, "no wait")
	}
	if l.TookOver {
		parts = append(parts, "took over a stale lock")
	}
	return strings.Join(parts, ", ")
}

// FormatWait renders a wait rounded to the second ("0s", "2m10s").
func FormatWait(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	return d.Round(time.Second).String()
}

// RenderSummary renders the step summary as GitHub-flavoured markdown.
func RenderSummary(s Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### prstate %s\n\n", s.Command)
	rows := make([][]string, 0, len(s.Rows))
	for _, r := range s.Rows {
		rows = append(rows, []string{Code(r.Stack), Code(r.Key), r.Lock.render(s.Links), ci.OrWord(r.Result, "-"), s.Links.Commit(r.Commit), s.Links.Run(r.RunURL)})
	}
	b.WriteString(Table([]string{"stack", "state key", "apply lock", "result", "commit", "run"}, rows))
	if len(s.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", escape.MarkdownLine(n))
		}
	}
	return b.String()
}

// text is a string from outside prstate (a record, an API answer) as
// markdown text: no links, HTML, mentions or formatting of its own.
func text(s string) string { return escape.MarkdownText(s) }

// SeedWords says in a few words whether and how a PR state was seeded.
func SeedWords(s *plan.SeedResult) string {
	switch {
	case s == nil:
		return "not seeded"
	case s.Seeded:
		return fmt.Sprintf("seeded from `%s` %s", s.Source, s.SerialWords())
	default:
		return "not seeded: " + s.Reason
	}
}
