package report

import (
	"fmt"
	"strings"
)

// DoctorRow is one check of prstate doctor as the step summary shows it.
type DoctorRow struct {
	Stack, Status, Check, Detail, Fix string
}

// DoctorSetting is one resolved backend setting and its source.
type DoctorSetting struct {
	Stack, Name, Value, Source string
}

// RenderDoctorSummary renders doctor's checks and the backend settings it
// resolved as tables. Every value is escaped: details carry names and
// messages from S3 and DynamoDB.
func RenderDoctorSummary(rows []DoctorRow, settings []DoctorSetting, counts string) string {
	var b strings.Builder
	b.WriteString("### prstate doctor\n\n")
	if counts != "" {
		b.WriteString(text(counts) + "\n\n")
	}
	b.WriteString("| stack | status | check | result | fix |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(code(r.Stack)), statusBadge(r.Status), cell(text(r.Check)), cell(text(r.Detail)), cell(text(orDash(r.Fix))))
	}
	if len(settings) > 0 {
		b.WriteString("\n#### backend configuration\n\n| stack | setting | value | from |\n|---|---|---|---|\n")
		for _, s := range settings {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(code(s.Stack)), cell(code(s.Name)), cell(code(s.Value)), cell(text(s.Source)))
		}
	}
	return b.String()
}

func statusBadge(s string) string {
	switch s {
	case "OK":
		return "✅ OK"
	case "WARN":
		return "⚠️ WARN"
	case "FAIL":
		return "❌ FAIL"
	}
	return text(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
