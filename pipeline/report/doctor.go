package report

import (
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
	checks := make([][]string, 0, len(rows))
	for _, r := range rows {
		checks = append(checks, []string{Code(r.Stack), statusBadge(r.Status), text(r.Check), text(r.Detail), text(orDash(r.Fix))})
	}
	b.WriteString(Table([]string{"stack", "status", "check", "result", "fix"}, checks))
	if len(settings) > 0 {
		b.WriteString("\n#### backend configuration\n\n")
		table := make([][]string, 0, len(settings))
		for _, s := range settings {
			table = append(table, []string{Code(s.Stack), Code(s.Name), Code(s.Value), text(s.Source)})
		}
		b.WriteString(Table([]string{"stack", "setting", "value", "from"}, table))
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
