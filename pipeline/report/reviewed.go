package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/plan"
)

// SectionReviewedPlan is the sticky comment's section of the reviewed-plan
// record, after plan's.
const SectionReviewedPlan = "reviewed-plan"

// maxRows bounds the tables of a comment or summary (GitHub caps a
// comment at 65,536 characters and a summary at 1 MiB).
const maxRows = 200

// ReviewedPlanSection is the comment section of a recorded plan: which
// commit, on which state, and the change set as a table of addresses and
// actions (never values).
func ReviewedPlanSection(r plan.Reviewed, links ci.Links) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Reviewed plan** recorded at %s on %s: %s.\n\n", links.Commit(r.HeadSHA), text(r.Base.Words()), countWords(len(r.Changes.Resources), "resource change"))
	rows := [][]string{}
	for _, c := range append(append([]plan.Change(nil), r.Changes.Resources...), r.Changes.Outputs...) {
		rows = append(rows, []string{Code(c.Address), text(c.ActionWords())})
	}
	writeRows(&b, []string{"address", "actions"}, rows)
	if len(r.Changes.Drift) > 0 {
		fmt.Fprintf(&b, "\nDrift (changed outside Terraform, not part of the change): %s.\n", addressList(r.Changes.Drift))
	}
	b.WriteString("\nThe apply of the merge is checked against this record (`verify-plan`).\n")
	return b.String()
}

// VerifyHeadline is verify-plan's one line: the match, or how many
// addresses differ.
func VerifyHeadline(v plan.Verdict) string {
	prs := PRList(v.PRs)
	switch {
	case len(v.PRs) == 0 && v.Matches:
		return "applies no pull request's change, and the plan changes nothing"
	case v.Matches:
		return "applies exactly what was reviewed in " + prs
	}
	var parts []string
	if n := len(v.Differences); n > 0 {
		verb := " differ"
		if n == 1 {
			verb = " differs"
		}
		parts = append(parts, countWords(n, "address")+verb+" from what was reviewed in "+prs)
	}
	if u := v.Unplanned(); len(u) > 0 {
		parts = append(parts, PRList(u)+" not planned at its final commit")
	}
	return "the apply-time plan is not what was reviewed: " + strings.Join(parts, "; ")
}

// VerifySummary is verify-plan's step summary.
func VerifySummary(v plan.Verdict, links ci.Links) string {
	var b strings.Builder
	b.WriteString("### prstate verify-plan\n\n")
	mark := "✅"
	if !v.Matches {
		mark = "⚠️"
	}
	fmt.Fprintf(&b, "%s %s.\n", mark, text(VerifyHeadline(v)))
	if len(v.Differences) > 0 {
		b.WriteString("\n")
		rows := [][]string{}
		for _, d := range v.Differences {
			rows = append(rows, []string{Code(d.Address), text(string(d.Kind)), text(dash(d.Planned)), text(dash(d.Now)), text(attrWords(d)), text(prNumbers(d.PRs))})
		}
		writeRows(&b, []string{"address", "difference", "reviewed", "now", "attributes", "PRs"}, rows)
	}
	if len(v.Shared) > 0 {
		b.WriteString("\nChanged by several pull requests (actions compared only, and equal):\n\n")
		rows := [][]string{}
		for _, d := range v.Shared {
			rows = append(rows, []string{Code(d.Address), text(d.Now), text(prNumbers(d.PRs))})
		}
		writeRows(&b, []string{"address", "actions", "PRs"}, rows)
	}
	if len(v.PRs) > 0 {
		b.WriteString("\n")
		rows := [][]string{}
		for _, p := range v.PRs {
			rows = append(rows, []string{"#" + strconv.Itoa(p.PR), links.Commit(p.HeadSHA), text(plannedWords(p)), text(movedWords(p, v.Production))})
		}
		writeRows(&b, []string{"PR", "final commit", "plan", "production since"}, rows)
	}
	if len(v.Drift) > 0 {
		fmt.Fprintf(&b, "\nDrift (changed outside Terraform; not a mismatch): %s.\n", addressList(v.Drift))
	}
	if len(v.Restored) > 0 {
		var addrs []plan.Change
		for _, d := range v.Restored {
			addrs = append(addrs, plan.Change{Address: d.Address})
		}
		fmt.Fprintf(&b, "\nDrift (production changed out of band since the plan; this apply puts back what was reviewed; not a mismatch): %s.\n", addressList(addrs))
	}
	return b.String()
}

// PRList is "#12, #13" ("no pull request" when empty).
func PRList(prs []plan.ReviewedPR) string {
	n := make([]int, len(prs))
	for i, p := range prs {
		n[i] = p.PR
	}
	if len(n) == 0 {
		return "no pull request"
	}
	return prNumbers(n)
}

func prNumbers(prs []int) string {
	s := make([]string, len(prs))
	for i, p := range prs {
		s[i] = "#" + strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

func plannedWords(p plan.ReviewedPR) string {
	switch {
	case p.Record == nil:
		return "never planned"
	case !p.AtHead:
		return "not planned at its final commit (last plan at " + ci.ShortSHA(p.Record.HeadSHA) + ")"
	default:
		return "planned at its final commit, on " + p.Record.Base.Words()
	}
}

// movedWords says how far production moved since a PR's plan.
func movedWords(p plan.ReviewedPR, prod plan.StateRef) string {
	if p.Record == nil || !prod.Known || !p.Record.Base.Known {
		return "unknown"
	}
	then, now := p.Record.Base.Serial, prod.Serial
	switch {
	case !p.Record.Base.Seeded:
		return fmt.Sprintf("now at serial %d (the PR state was not seeded from production)", now)
	case p.Record.Base.Lineage != prod.Lineage:
		return fmt.Sprintf("planned at serial %d of another lineage; production now at serial %d", then, now)
	case then == now:
		return fmt.Sprintf("unchanged (serial %d)", now)
	default:
		return fmt.Sprintf("planned at serial %d, production now at serial %d", then, now)
	}
}

func attrWords(d plan.Difference) string {
	if len(d.Attrs) == 0 {
		return "-"
	}
	return "value digests of " + strings.Join(d.Attrs, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func countWords(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "s") {
		return strconv.Itoa(n) + " " + what + "es"
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func addressList(cs []plan.Change) string {
	var s []string
	for i, c := range cs {
		if i == 20 {
			s = append(s, fmt.Sprintf("and %d more", len(cs)-20))
			break
		}
		s = append(s, Code(c.Address))
	}
	return strings.Join(s, ", ")
}

// writeRows writes a table of at most maxRows rows, saying how many more.
func writeRows(b *strings.Builder, header []string, rows [][]string) {
	more := 0
	if len(rows) > maxRows {
		more, rows = len(rows)-maxRows, rows[:maxRows]
	}
	b.WriteString(Table(header, rows))
	if more > 0 {
		fmt.Fprintf(b, "\nand %d more.\n", more)
	}
}
