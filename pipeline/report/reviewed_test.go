package report

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/plan"
)

// Addresses come from the plan JSON a PR controls: in the comment and the
// summary they stay inside their code span and table cell.
func TestReviewedPlanRenderingEscapes(t *testing.T) {
	evil := "terraform_data.a[\"x|`y`\n<img src=x>@team\"]"
	rec := plan.Reviewed{PR: 3, HeadSHA: strings.Repeat("b", 40), Changes: plan.ChangeSet{Resources: []plan.Change{{Address: evil, Actions: []string{"create"}}}}}
	links := ci.Links{ServerURL: "https://github.com", Repository: "acme/infra"}
	v := plan.Verify(plan.ChangeSet{}, []plan.ReviewedPR{{PR: 3, HeadSHA: rec.HeadSHA, AtHead: true, Record: &rec}}, plan.StateRef{})
	for name, md := range map[string]string{"comment": ReviewedPlanSection(rec, links), "summary": VerifySummary(v, links)} {
		for _, line := range strings.Split(md, "\n") {
			if strings.Contains(line, "terraform_data.a") {
				if cells(line) != cells(headerOf(md, line)) {
					t.Errorf("%s: a row's cells broke: %q", name, line)
				}
				if strings.Contains(line, "<img") && !strings.Contains(line, "`") {
					t.Errorf("%s: HTML outside a code span: %q", name, line)
				}
			}
		}
		// The address holds single backticks: its span is fenced by two
		// (escape.MarkdownCode), so "`y`" stays inside it.
		if strings.Contains(md, "\n<img") || !strings.Contains(md, "``terraform_data.a[") {
			t.Errorf("%s: the address escaped its code span:\n%s", name, md)
		}
	}
	if !strings.Contains(VerifyHeadline(v), "1 address differs") {
		t.Errorf("headline %q", VerifyHeadline(v))
	}
}

// cells counts a table row's unescaped pipes.
func cells(row string) int { return strings.Count(row, "|") - strings.Count(row, `\|`) }

// headerOf is the header row of the table line belongs to.
func headerOf(md, line string) string {
	lines := strings.Split(md, "\n")
	header := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "|") && !strings.HasPrefix(l, "|---") {
			if header == "" {
				header = l
			}
		} else if !strings.HasPrefix(l, "|---") {
			header = ""
		}
		if l == line {
			return header
		}
	}
	return ""
}
