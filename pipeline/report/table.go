package report

import (
	"strings"

	"github.com/prstate/prstate/pipeline/escape"
)

// Table renders a GitHub-flavoured markdown table: the header row, then
// one row per entry of rows. Every cell is kept inside its cell (Cell), so
// a value with | or a newline cannot break the table: the one table writer
// of every summary.
func Table(header []string, rows [][]string) string {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + Cell(c) + " |")
		}
		b.WriteString("\n")
	}
	row(header)
	b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		row(r)
	}
	return b.String()
}

// Code renders s as inline code ("-" when empty), escaped
// (escape.MarkdownCode).
func Code(s string) string { return escape.MarkdownCode(s) }

// Cell keeps rendered markdown inside its table cell (escape.MarkdownCell).
func Cell(s string) string { return escape.MarkdownCell(s) }
