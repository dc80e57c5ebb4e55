package report

import "strings"

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

// Code renders s as inline code ("-" when empty).
func Code(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

// Cell keeps a value inside its table cell: newlines become spaces, | is
// escaped.
func Cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "\\|")
}
