package report

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/github"
	"github.com/prstate/prstate/pipeline/plan"
)

// The sticky comment's sections, in the order they appear. Each step
// rewrites its own section and keeps the others.
const (
	SectionPlan    = "plan"
	SectionApply   = "apply"
	SectionCleanup = "cleanup"
)

var sectionOrder = map[string]int{SectionPlan: 0, SectionReviewedPlan: 1, SectionApply: 2, SectionCleanup: 3}

// CommentID names the one comment per pull request and stack.
type CommentID struct {
	Stack string // directory relative to the repository
	Key   string // production state key: the same on the PR and after merge
}

// Marker is the hidden first line that finds the comment again.
func (id CommentID) Marker() string {
	return "<!-- prstate:" + id.Stack + ":" + id.Key + " -->"
}

// StickyComment is the parsed body of a sticky comment.
type StickyComment struct {
	ID       CommentID
	Sections map[string]string // name -> markdown
}

var (
	markerRe  = regexp.MustCompile(`^<!-- prstate:([^:\n]*):(.*) -->\n`)
	sectionRe = regexp.MustCompile(`(?s)<!-- prstate-section:([a-z0-9-]+) -->\n(.*?)\n<!-- /prstate-section -->`)
)

// ParseStickyComment reads a body RenderStickyComment wrote; ok is false
// for any other comment.
func ParseStickyComment(body string) (StickyComment, bool) {
	m := markerRe.FindStringSubmatch(body)
	if m == nil {
		return StickyComment{}, false
	}
	c := StickyComment{ID: CommentID{Stack: m[1], Key: m[2]}, Sections: map[string]string{}}
	for _, s := range sectionRe.FindAllStringSubmatch(body, -1) {
		c.Sections[s[1]] = s[2]
	}
	return c, true
}

// Render writes the comment: the marker, a title, the sections in order.
func (c StickyComment) Render() string {
	names := make([]string, 0, len(c.Sections))
	for n := range c.Sections {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		oi, iok := sectionOrder[names[i]]
		oj, jok := sectionOrder[names[j]]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return names[i] < names[j]
	})
	var b strings.Builder
	b.WriteString(c.ID.Marker() + "\n")
	fmt.Fprintf(&b, "#### prstate · %s\n", Code(c.ID.Stack))
	for _, n := range names {
		fmt.Fprintf(&b, "\n<!-- prstate-section:%s -->\n%s\n<!-- /prstate-section -->\n", n, sanitizeSection(c.Sections[n]))
	}
	return b.String()
}

// sanitizeSection keeps a section from closing itself or opening another.
func sanitizeSection(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "<!--", "&lt;!--"))
}

// CommentAPI is the part of the GitHub client the sticky comment uses.
type CommentAPI interface {
	TokenUser(ctx context.Context) (github.Author, error)
	FindIssueComment(ctx context.Context, repo string, issue int, prefix string, author github.Author) (int64, string, error)
	CreateIssueComment(ctx context.Context, repo string, issue int, body string) (int64, github.Author, error)
	EditIssueComment(ctx context.Context, repo string, id int64, body string) error
}

// CommentAuthor returns the account whose comments prstate adopts as its
// own: the token's. A personal or user token is asked (GET /user). An app
// installation's token (the Actions GITHUB_TOKEN, a GitHub App's) cannot
// ask, so it is configured (comment-author, an app's "<slug>[bot]") or
// else github-actions[bot], GITHUB_TOKEN's author. A comment by anyone
// else is never edited, whatever marker it carries.
func CommentAuthor(ctx context.Context, api CommentAPI, configured string) (github.Author, error) {
	me, err := api.TokenUser(ctx)
	switch {
	case err == nil:
		return me, nil
	case !errors.Is(err, github.ErrInstallationToken):
		return github.Author{}, err
	case configured != "":
		return github.Author{Login: configured, Type: "Bot"}, nil
	default:
		return github.ActionsBot, nil
	}
}

// AuthorMismatchError says the comment prstate created was written by
// another account than the one it adopts comments of: each run would add
// another comment.
type AuthorMismatchError struct {
	Want, Got github.Author
}

func (e *AuthorMismatchError) Error() string {
	return fmt.Sprintf("the comment was written as %s, but prstate adopts only comments of %s: set comment-author: %s (the token is an app's), or each run adds a comment",
		escape.Log(e.Got.Login), escape.Log(e.Want.Login), escape.Log(e.Got.Login))
}

// UpsertComment sets one section of the sticky comment of pr and stack:
// it creates the comment the first time and edits it in place afterwards,
// keeping the other sections. Only a comment written by author (see
// CommentAuthor) is adopted, and of it only the sections prstate writes
// (plan, apply, cleanup); a comment anyone else planted with the marker
// is left alone. created tells which.
func UpsertComment(ctx context.Context, api CommentAPI, repo string, pr int, author github.Author, id CommentID, section, text string) (created bool, err error) {
	if pr <= 0 {
		return false, fmt.Errorf("failed to update the pull request comment: no pull request")
	}
	if _, known := sectionOrder[section]; !known {
		return false, fmt.Errorf("failed to update the pull request comment: unknown section %q", section)
	}
	cid, body, err := api.FindIssueComment(ctx, repo, pr, id.Marker()+"\n", author)
	if err != nil {
		return false, err
	}
	c := StickyComment{ID: id, Sections: map[string]string{}}
	if cid != 0 {
		if parsed, ok := ParseStickyComment(body); ok {
			for name, kept := range parsed.Sections {
				if _, known := sectionOrder[name]; known {
					c.Sections[name] = kept
				}
			}
		}
	}
	c.Sections[section] = sanitizeSection(text)
	next := c.Render()
	switch {
	case cid == 0:
		_, got, err := api.CreateIssueComment(ctx, repo, pr, next)
		if err == nil && !got.Is(author) {
			err = &AuthorMismatchError{Want: author, Got: got}
		}
		return true, err
	case next == body:
		return false, nil
	default:
		return false, api.EditIssueComment(ctx, repo, cid, next)
	}
}

// commentTime is how the comment shows a moment.
func commentTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// PlanReport is what the plan step tells the pull request.
type PlanReport struct {
	Key        string // the PR's state key
	Workspace  string // under --isolation workspace
	Production string
	Seed       *plan.SeedResult // nil: seeding was not asked for
	Commit     string
	RunURL     string
	At         time.Time
}

// PlanSection renders the plan part of the sticky comment.
func PlanSection(r PlanReport, l ci.Links) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Plans** of this pull request use the state key %s", Code(r.Key))
	if r.Workspace != "" {
		fmt.Fprintf(&b, " (workspace %s)", Code(r.Workspace))
	}
	fmt.Fprintf(&b, ", beside production %s; they never take the production lock.\n", Code(r.Production))
	switch {
	case r.Seed == nil:
		b.WriteString("The PR state starts empty (seed: none).\n")
	case r.Seed.Seeded:
		fmt.Fprintf(&b, "Seeded from production %s at %s.\n", Code(r.Seed.Source), r.Seed.SerialWords())
	case r.Seed.Serial != 0:
		fmt.Fprintf(&b, "Not seeded again: %s (production serial %d).\n", r.Seed.Reason, r.Seed.Serial)
	default:
		fmt.Fprintf(&b, "Not seeded: %s.\n", r.Seed.Reason)
	}
	b.WriteString("Updated")
	if r.Commit != "" {
		b.WriteString(" for " + l.Commit(r.Commit))
	}
	if r.RunURL != "" {
		b.WriteString(" in " + l.Run(r.RunURL))
	}
	b.WriteString(" at " + commentTime(r.At) + ".")
	return b.String()
}

// ApplyOutcome is how an apply after merge ended (so far).
type ApplyOutcome string

// The apply outcomes.
const (
	ApplyStarted    ApplyOutcome = "started"    // the lock is held, the apply runs
	ApplyApplied    ApplyOutcome = "applied"    // the wrapped command succeeded
	ApplyFailed     ApplyOutcome = "failed"     // the wrapped command failed
	ApplySuperseded ApplyOutcome = "superseded" // skipped: a newer commit applied
)

// ApplyReport is what lock and run tell: the outcome, the wait, and for a
// superseded commit the newer one.
type ApplyReport struct {
	Outcome ApplyOutcome
	Key     string // production state key
	Commit  string
	RunURL  string
	At      time.Time
	Lock    LockSummary
	Newer   applylock.LedgerEntry // ApplySuperseded: the commit whose apply started first
	Detail  string                // ApplyFailed: why, one line
}

// ApplySection renders the apply part of the sticky comment.
func ApplySection(r ApplyReport, l ci.Links) string {
	var b strings.Builder
	what := l.Commit(r.Commit)
	switch r.Outcome {
	case ApplySuperseded:
		fmt.Fprintf(&b, "**Apply** of %s was **skipped**: it is superseded by the newer commit %s, whose apply started in %s at %s.",
			what, l.Commit(r.Newer.SHA), l.Run(r.Newer.RunURL), commentTime(r.Newer.Started))
	case ApplyFailed:
		fmt.Fprintf(&b, "**Apply** of %s to %s **failed** in %s at %s", what, Code(r.Key), l.Run(r.RunURL), commentTime(r.At))
		if r.Detail != "" {
			b.WriteString(": " + text(r.Detail))
		}
		b.WriteString(".")
	case ApplyApplied:
		fmt.Fprintf(&b, "**Apply** of %s to %s **ran** in %s, done at %s.", what, Code(r.Key), l.Run(r.RunURL), commentTime(r.At))
	default:
		fmt.Fprintf(&b, "**Apply** of %s to %s **started** in %s at %s.", what, Code(r.Key), l.Run(r.RunURL), commentTime(r.At))
	}
	switch {
	case r.Lock.BehindRunURL != "":
		fmt.Fprintf(&b, "\nIt waited %s for the apply lock behind %s", FormatWait(r.Lock.Waited), l.Run(r.Lock.BehindRunURL))
		if r.Lock.BehindCommit != "" {
			fmt.Fprintf(&b, " (commit %s)", l.Commit(r.Lock.BehindCommit))
		}
		b.WriteString(".")
	case r.Lock.Waited > 0:
		fmt.Fprintf(&b, "\nIt waited %s for the apply lock.", FormatWait(r.Lock.Waited))
	case r.Lock.Held:
		b.WriteString("\nThe apply lock was free: no wait.")
	}
	if r.Lock.TookOver {
		b.WriteString(" The previous holder was stale; this run took the lock over.")
	}
	return b.String()
}

// SummaryRow is the step summary row of an apply report.
func (r ApplyReport) SummaryRow(stack string, l ci.Links) SummaryRow {
	var result string
	switch r.Outcome {
	case ApplySuperseded:
		result = "skipped: superseded by " + l.Commit(r.Newer.SHA) + " (" + l.Run(r.Newer.RunURL) + ")"
	case ApplyFailed:
		result = "failed"
		if r.Detail != "" {
			result += ": " + text(r.Detail)
		}
	default:
		result = string(r.Outcome)
	}
	return SummaryRow{Stack: stack, Key: r.Key, Lock: r.Lock, Result: result, Commit: r.Commit, RunURL: r.RunURL}
}

// CleanupReport is what cleanup tells the pull request.
type CleanupReport struct {
	Key     string // the PR's state key
	At      time.Time
	RunURL  string
	Removed int    // objects, versions and items deleted
	Kept    string // when the PR state was kept: why and the next step
}

// CleanupSection renders the cleanup part of the sticky comment.
func CleanupSection(r CleanupReport, l ci.Links) string {
	if r.Kept != "" {
		return fmt.Sprintf("**Cleanup** kept the PR state %s (%s at %s): %s", Code(r.Key), l.Run(r.RunURL), commentTime(r.At), text(r.Kept))
	}
	return fmt.Sprintf("**Cleanup**: the PR state %s was removed in %s at %s (%d objects, versions and lock items).", Code(r.Key), l.Run(r.RunURL), commentTime(r.At), r.Removed)
}
