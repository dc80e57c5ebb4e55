package ci

import (
	"regexp"
	"strings"

	"github.com/prstate/prstate/pipeline/escape"
)

// Links builds links to commits and runs of one repository. A run URL read
// from a record (a lock holder, the ledger) is a link only when it points
// at this repository's own runs on its own server: a forged record must
// not put a phishing link in a summary or comment.
type Links struct {
	ServerURL  string // https://github.com, or a GitHub Enterprise Server
	Repository string // owner/name
}

// Links of the event's repository.
func (e Event) Links() Links { return Links{ServerURL: e.ServerURL, Repository: e.Repository} }

// runPath is what follows <server>/<owner>/<repo> in a run's URL: GitHub's
// actions/runs/ID[/attempts/N], or GitLab's -/pipelines/ID.
var runPath = regexp.MustCompile(`^/(?:actions/runs/[0-9]+(?:/attempts/[0-9]+)?|-/pipelines/[0-9]+)$`)

// OwnRun tells whether url is a run of this repository on its server.
func (l Links) OwnRun(url string) bool {
	if l.ServerURL == "" || l.Repository == "" {
		return false
	}
	rest, ok := strings.CutPrefix(url, strings.TrimSuffix(l.ServerURL, "/")+"/"+l.Repository)
	return ok && runPath.MatchString(rest)
}

// Unverified marks a run URL that is not one of this repository's runs.
const Unverified = "(unverified)"

// RunText shows a run URL in a plain log line: as it is when it is one of
// this repository's runs, else escaped and marked unverified.
func (l Links) RunText(url string) string {
	if url == "" || l.OwnRun(url) {
		return url
	}
	return escape.Log(url) + " " + Unverified
}

// Commit renders a commit as a link (just the short SHA in code without a
// repository). A SHA that is not 40 or 64 hex digits shows as (invalid).
func (l Links) Commit(sha string) string {
	if sha == "" {
		return "-"
	}
	if !escape.IsSHA(sha) {
		return "`" + escape.Invalid + "`"
	}
	code := "`" + ShortSHA(sha) + "`"
	if l.ServerURL == "" || l.Repository == "" {
		return code
	}
	return "[" + code + "](" + strings.TrimSuffix(l.ServerURL, "/") + "/" + l.Repository + "/commit/" + sha + ")"
}

// Run renders a run URL as a link labelled with the run's ID, when it is
// one of this repository's runs; any other URL as inline code marked
// unverified (code is never a link, nor autolinked).
func (l Links) Run(url string) string {
	if url == "" {
		return "-"
	}
	if !l.OwnRun(url) {
		return escape.MarkdownCode(url) + " " + Unverified
	}
	label := "run"
	if i := strings.Index(url, "/runs/"); i >= 0 {
		label = "run " + strings.ReplaceAll(url[i+len("/runs/"):], "/attempts/", " attempt ")
	} else if i := strings.LastIndex(url, "/"); i >= 0 {
		label = "pipeline " + url[i+1:] // GitLab: .../-/pipelines/ID
	}
	return "[" + label + "](" + url + ")"
}
