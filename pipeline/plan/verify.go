package plan

import (
	"slices"
	"sort"
	"strings"
)

// ReviewedPR is one pull request an apply brings: its final head commit,
// and the record found for it (Record nil when it was never planned;
// AtHead false when the record is of an earlier commit).
type ReviewedPR struct {
	PR      int
	HeadSHA string // "" when unknown (--pr outside GitHub): the latest record counts
	Record  *Reviewed
	AtHead  bool
}

// Difference is one address where the apply-time plan differs from what
// was reviewed.
type Difference struct {
	Address string
	Kind    DiffKind
	PRs     []int  // the PRs whose records name the address
	Planned string // the actions reviewed ("" when never)
	Now     string // the actions at apply ("" when not planned now)
	// Attrs names the attributes whose value digests differ (top-level
	// names; nested paths digested). Empty for a difference of actions.
	Attrs []string
}

// DiffKind says how an address differs.
type DiffKind string

// The kinds of difference verify reports, per address.
const (
	NotPlannedNow DiffKind = "planned in review but not now"
	NeverReviewed DiffKind = "planned now but never reviewed"
	// Restores says the change only puts back what the PR's reviewers saw
	// (production changed out of band since the plan). Drift, not a
	// mismatch.
	Restores       DiffKind = "restores what was reviewed (production changed out of band since the plan)"
	ActionsDiffer  DiffKind = "different actions"
	ValuesDiffer   DiffKind = "different values"
	SharedAddress  DiffKind = "changed by several pull requests: actions compared only"
	sharedMismatch DiffKind = "changed by several pull requests, different actions"
)

// Verdict is verify-plan's answer.
type Verdict struct {
	Matches bool
	PRs     []ReviewedPR
	// Differences are the mismatches; Shared the addresses several PRs
	// change whose actions agree (said, not a mismatch).
	Differences []Difference
	Shared      []Difference
	// Restored are changes no PR made that put back what a PR's plan saw
	// unchanged: production changed out of band since. Drift, said apart.
	Restored []Difference
	// Drift is the apply-time plan's resource_drift: said apart.
	Drift []Change
	// Production is production's serial now, to say how far it moved
	// since each PR's plan.
	Production StateRef
}

// Unplanned lists the PRs not planned at their final commit.
func (v Verdict) Unplanned() []ReviewedPR {
	var out []ReviewedPR
	for _, p := range v.PRs {
		if !p.AtHead {
			out = append(out, p)
		}
	}
	return out
}

// Verify compares the apply-time change set with the union of the
// records of prs. Resources and outputs are compared per address: the
// actions, and for an address one PR changes the digest of every
// changing attribute's before and after (so an apply that would undo
// another PR's change differs: its before differs). An address several
// PRs change is compared by actions only. Drift is never a mismatch. A PR
// not planned at its final commit makes it a mismatch too: it was merged
// without a current plan.
func Verify(now ChangeSet, prs []ReviewedPR, production StateRef) Verdict {
	v := Verdict{PRs: prs, Drift: now.Drift, Production: production}
	byAddr := func(l []Difference) {
		sort.Slice(l, func(i, j int) bool { return l[i].Address < l[j].Address })
	}
	type reviewed struct {
		prs     []int
		changes []Change
	}
	union := map[string]*reviewed{}
	for _, p := range prs {
		if p.Record == nil {
			continue
		}
		for _, list := range [][]Change{p.Record.Changes.Resources, p.Record.Changes.Outputs} {
			for _, c := range list {
				r := union[c.Address]
				if r == nil {
					r = &reviewed{}
					union[c.Address] = r
				}
				r.prs = append(r.prs, p.PR)
				r.changes = append(r.changes, c)
			}
		}
	}
	current := map[string]Change{}
	for _, list := range [][]Change{now.Resources, now.Outputs} {
		for _, c := range list {
			current[c.Address] = c
		}
	}
	for addr, r := range union {
		c, ok := current[addr]
		d := Difference{Address: addr, PRs: r.prs, Planned: actionsOf(r.changes)}
		switch {
		case !ok:
			d.Kind = NotPlannedNow
		case len(r.changes) > 1:
			d.Now = c.ActionWords()
			d.Kind = SharedAddress
			if !slices.ContainsFunc(r.changes, func(x Change) bool { return slices.Equal(x.Actions, c.Actions) }) {
				d.Kind = sharedMismatch
			}
		case !slices.Equal(r.changes[0].Actions, c.Actions):
			d.Now, d.Kind = c.ActionWords(), ActionsDiffer
		default:
			d.Now = c.ActionWords()
			if d.Attrs = attrDiff(r.changes[0].Attrs, c.Attrs); len(d.Attrs) > 0 {
				d.Kind = ValuesDiffer
			}
		}
		switch d.Kind {
		case "":
		case SharedAddress:
			v.Shared = append(v.Shared, d)
		default:
			v.Differences = append(v.Differences, d)
		}
	}
	seen := map[string][]Snapshot{}
	for _, p := range prs {
		if p.Record == nil {
			continue
		}
		for _, s := range p.Record.Changes.Unchanged {
			seen[s.Address] = append(seen[s.Address], s)
		}
	}
	for addr, c := range current {
		if union[addr] != nil {
			continue
		}
		d := Difference{Address: addr, Kind: NeverReviewed, Now: c.ActionWords()}
		if restores(c, seen[addr]) {
			d.Kind = Restores
			v.Restored = append(v.Restored, d)
			continue
		}
		v.Differences = append(v.Differences, d)
	}
	byAddr(v.Restored)
	byAddr(v.Differences)
	byAddr(v.Shared)
	v.Matches = len(v.Differences) == 0 && len(v.Unplanned()) == 0
	return v
}

// restores reports whether an update (or a create: deleted out of band)
// c only puts back the values an unchanged resource had in a reviewed
// plan: every changing attribute's after digest is the reviewed one (or
// known only after apply).
func restores(c Change, snaps []Snapshot) bool {
	if len(c.Actions) != 1 || c.Actions[0] != "update" && c.Actions[0] != "create" {
		return false
	}
	for _, s := range snaps {
		ok := true
		for _, a := range c.Attrs {
			if a.After != Unknown && a.After != s.Values[a.Path] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// actionsOf is the actions of the reviewed changes, each once.
func actionsOf(cs []Change) string {
	var out []string
	for _, c := range cs {
		if w := c.ActionWords(); !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return strings.Join(out, " / ")
}

// attrDiff names the attributes whose before or after digests differ
// between reviewed and now, each with which side differs: "input
// (before)" is an apply that starts from another value than the review
// did (another change landed meanwhile, or one would be undone).
func attrDiff(reviewed, now []Attr) []string {
	idx := func(as []Attr) map[string]Attr {
		m := make(map[string]Attr, len(as))
		for _, a := range as {
			m[a.Path] = a
		}
		return m
	}
	r, n := idx(reviewed), idx(now)
	type sides struct{ before, after bool }
	diff := map[string]*sides{}
	mark := func(p string, before, after bool) {
		top, _, _ := strings.Cut(p, "#")
		d := diff[top]
		if d == nil {
			d = &sides{}
			diff[top] = d
		}
		d.before = d.before || before
		d.after = d.after || after
	}
	for p, a := range r {
		b, ok := n[p]
		switch {
		case !ok:
			mark(p, true, true)
		case a != b:
			mark(p, a.Before != b.Before, a.After != b.After || a.Sensitive != b.Sensitive)
		}
	}
	for p := range n {
		if _, ok := r[p]; !ok {
			mark(p, true, true)
		}
	}
	out := make([]string, 0, len(diff))
	for top, d := range diff {
		switch {
		case d.before && d.after:
			out = append(out, top+" (before and after)")
		case d.before:
			out = append(out, top+" (before)")
		default:
			out = append(out, top+" (after)")
		}
	}
	sort.Strings(out)
	return out
}
