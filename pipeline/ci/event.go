// Package ci says what happened: the CI event (pull request opened,
// synchronized or closed, push, merge_group, schedule, GitLab pipelines),
// read from the runner's environment, and links into its repository. See
// ARCHITECTURE.md.
package ci

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/usage"
)

// Kind is what triggered this run, as far as state keys are concerned.
type Kind string

// The kinds of run.
const (
	KindPullRequest Kind = "pull_request" // pull_request, pull_request_target, merge_group, --pr
	KindPush        Kind = "push"
	KindSchedule    Kind = "schedule"
	KindManual      Kind = "manual" // workflow_dispatch, or a shell outside CI
)

// Event is what happened, read from the CI environment.
type Event struct {
	Name          string // GITHUB_EVENT_NAME, "gitlab:<source>" or "local"
	Kind          Kind
	Action        string // opened, synchronize, reopened, closed
	PR            int
	Merged        bool
	Ref           string
	DefaultBranch string
	SHA           string // the commit this run is about
	// BaseSHA is what the change is compared with ("" when unknown): a
	// pull request's base, a merge group's base, a push's before.
	BaseSHA      string
	Repository   string // owner/name
	RepositoryID int64  // the payload's repository.id (0 when absent): GitHub's immutable OIDC subject names it
	OwnerID      int64  // the payload's repository.owner.id (0 when absent)
	RunID        string
	RunAttempt   string
	RunURL       string
	ServerURL    string
	Actor        string
}

// IsPullRequest tells whether plans of this event use a PR key.
func (e Event) IsPullRequest() bool { return e.Kind == KindPullRequest }

// Closed tells whether the event closed a pull request (merged or not).
func (e Event) Closed() bool { return e.IsPullRequest() && e.Action == "closed" }

// OnDefaultBranch tells whether a push went to the default branch.
func (e Event) OnDefaultBranch() bool {
	return e.Kind == KindPush && e.DefaultBranch != "" && e.Ref == "refs/heads/"+e.DefaultBranch
}

// Env reads variables; os.Getenv in production, a map in tests.
type Env func(string) string

// ReadFileFunc reads a file; os.ReadFile in production.
type ReadFileFunc func(string) ([]byte, error)

var mergeQueueRef = regexp.MustCompile(`(?:^|/)gh-readonly-queue/.+/pr-([0-9]+)-[0-9a-f]+$`)

// DetectEvent reads the event from GitHub Actions or GitLab CI variables.
// prFlag (--pr, 0 when unset) wins over what the environment says.
func DetectEvent(env Env, readFile ReadFileFunc, prFlag int) (Event, error) {
	var (
		ev  Event
		err error
	)
	switch {
	case env("GITHUB_ACTIONS") == "true":
		ev, err = githubEvent(env, readFile)
	case env("GITLAB_CI") == "true":
		ev, err = gitlabEvent(env)
	default:
		ev = Event{Name: "local", Kind: KindManual, SHA: env("GITHUB_SHA")}
	}
	if err != nil {
		return Event{}, err
	}
	for _, sha := range []string{ev.SHA, ev.BaseSHA} {
		if err := validSHA(sha); err != nil {
			return Event{}, err
		}
	}
	if !escape.IsSHA(ev.BaseSHA) {
		ev.BaseSHA = "" // only ever recorded: an odd value is dropped
	}
	return ev.WithPR(prFlag)
}

// WithPR is the event with --pr on top (0: unset): a pull request event of
// that number. A number that contradicts the event's is an error.
func (e Event) WithPR(pr int) (Event, error) {
	if pr == 0 {
		return e, nil
	}
	if err := ValidatePR(pr); err != nil {
		return Event{}, err
	}
	if e.PR != 0 && e.PR != pr {
		return Event{}, usage.Errorf("--pr %d contradicts the event's pull request #%d", pr, e.PR)
	}
	e.PR, e.Kind = pr, KindPullRequest
	return e, nil
}

// Once reads the event at the first call only, and returns that answer
// (event or error) at every call: the event is parsed once per process.
func Once(env Env, readFile ReadFileFunc) func() (Event, error) {
	var (
		once sync.Once
		ev   Event
		err  error
	)
	return func() (Event, error) {
		once.Do(func() { ev, err = DetectEvent(env, readFile, 0) })
		return ev, err
	}
}

// githubPayload holds the fields prstate reads of GitHub's event payloads.
type githubPayload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	Ref         string `json:"ref"`
	After       string `json:"after"`
	Before      string `json:"before"`
	PullRequest *struct {
		Number int  `json:"number"`
		Merged bool `json:"merged"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			SHA string `json:"sha"`
		} `json:"base"`
		MergeCommitSHA string `json:"merge_commit_sha"`
	} `json:"pull_request"`
	MergeGroup *struct {
		HeadRef string `json:"head_ref"`
		HeadSHA string `json:"head_sha"`
		BaseSHA string `json:"base_sha"`
	} `json:"merge_group"`
	Repository *struct {
		DefaultBranch string `json:"default_branch"`
		ID            int64  `json:"id"`
		Owner         struct {
			ID int64 `json:"id"`
		} `json:"owner"`
	} `json:"repository"`
}

func githubEvent(env Env, readFile ReadFileFunc) (Event, error) {
	ev := Event{
		Name:       env("GITHUB_EVENT_NAME"),
		Ref:        env("GITHUB_REF"),
		SHA:        env("GITHUB_SHA"),
		Repository: env("GITHUB_REPOSITORY"),
		RunID:      env("GITHUB_RUN_ID"),
		RunAttempt: env("GITHUB_RUN_ATTEMPT"),
		ServerURL:  strings.TrimSuffix(env("GITHUB_SERVER_URL"), "/"),
		Actor:      env("GITHUB_ACTOR"),
	}
	if ev.ServerURL == "" {
		ev.ServerURL = "https://github.com"
	}
	if ev.Repository != "" && ev.RunID != "" {
		ev.RunURL = fmt.Sprintf("%s/%s/actions/runs/%s", ev.ServerURL, ev.Repository, ev.RunID)
		if ev.RunAttempt != "" && ev.RunAttempt != "1" {
			ev.RunURL += "/attempts/" + ev.RunAttempt
		}
	}
	var p githubPayload
	if path := env("GITHUB_EVENT_PATH"); path != "" {
		data, err := readFile(path)
		if err != nil {
			return Event{}, usage.Errorf("cannot read the event payload: %v", err)
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return Event{}, usage.Errorf("cannot parse the event payload %s: %v", path, err)
		}
	}
	if p.Repository != nil {
		ev.DefaultBranch = p.Repository.DefaultBranch
		ev.RepositoryID, ev.OwnerID = p.Repository.ID, p.Repository.Owner.ID
	}
	switch ev.Name {
	case "pull_request", "pull_request_target":
		if p.PullRequest == nil {
			return Event{}, usage.Errorf("%s event payload has no pull_request", ev.Name)
		}
		ev.Kind, ev.Action, ev.Merged = KindPullRequest, p.Action, p.PullRequest.Merged
		ev.PR = p.PullRequest.Number
		if ev.PR == 0 {
			ev.PR = p.Number
		}
		if err := ValidatePR(ev.PR); err != nil {
			return Event{}, err
		}
		ev.BaseSHA = p.PullRequest.Base.SHA
		// GITHUB_SHA is the test merge commit; the PR's own commit is the head.
		if p.PullRequest.Head.SHA != "" {
			ev.SHA = p.PullRequest.Head.SHA
		}
		ev.BaseSHA = p.PullRequest.Base.SHA
		if ev.Merged && p.PullRequest.MergeCommitSHA != "" {
			ev.SHA = p.PullRequest.MergeCommitSHA
		}
	case "merge_group":
		ref := ev.Ref
		if p.MergeGroup != nil && p.MergeGroup.HeadRef != "" {
			ref = p.MergeGroup.HeadRef
		}
		m := mergeQueueRef.FindStringSubmatch(ref)
		if m == nil {
			return Event{}, usage.Errorf("merge_group ref %q does not name a pull request (gh-readonly-queue/<branch>/pr-N-<sha>)", ref)
		}
		pr, err := ParsePR(m[1])
		if err != nil {
			return Event{}, err
		}
		ev.Kind, ev.PR, ev.Action = KindPullRequest, pr, "merge_group"
		if p.MergeGroup != nil {
			ev.BaseSHA = p.MergeGroup.BaseSHA
		}
	case "push":
		ev.Kind = KindPush
		if p.Ref != "" {
			ev.Ref = p.Ref
		}
		if p.After != "" && strings.Trim(p.After, "0") != "" {
			ev.SHA = p.After
		}
		if strings.Trim(p.Before, "0") != "" {
			ev.BaseSHA = p.Before
		}
	case "schedule":
		ev.Kind = KindSchedule
	case "workflow_dispatch":
		ev.Kind = KindManual
	case "":
		return Event{}, usage.Errorf("GITHUB_EVENT_NAME is not set")
	default:
		return Event{}, usage.Errorf("unsupported event %q (supported: pull_request, pull_request_target, merge_group, push, schedule, workflow_dispatch)", ev.Name)
	}
	return ev, nil
}

func gitlabEvent(env Env) (Event, error) {
	ev := Event{
		Name:          "gitlab:" + env("CI_PIPELINE_SOURCE"),
		Ref:           "refs/heads/" + env("CI_COMMIT_BRANCH"),
		DefaultBranch: env("CI_DEFAULT_BRANCH"),
		SHA:           env("CI_COMMIT_SHA"),
		Repository:    env("CI_PROJECT_PATH"),
		RunID:         env("CI_PIPELINE_ID"),
		RunURL:        env("CI_PIPELINE_URL"),
		ServerURL:     env("CI_SERVER_URL"),
		Actor:         env("GITLAB_USER_LOGIN"),
	}
	switch {
	case env("CI_MERGE_REQUEST_IID") != "":
		pr, err := ParsePR(env("CI_MERGE_REQUEST_IID"))
		if err != nil {
			return Event{}, err
		}
		ev.Kind, ev.PR, ev.Action = KindPullRequest, pr, "synchronize"
		ev.BaseSHA = env("CI_MERGE_REQUEST_DIFF_BASE_SHA")
	case env("CI_PIPELINE_SOURCE") == "schedule":
		ev.Kind = KindSchedule
	case env("CI_COMMIT_BRANCH") != "":
		ev.Kind = KindPush
	default:
		ev.Kind = KindManual
	}
	return ev, nil
}

// validSHA: the event's commit is passed to git and the GitHub API and
// shown in summaries, so a payload (or variable) whose commit is not 40 or
// 64 hex digits is bad input.
func validSHA(sha string) error {
	if sha == "" || escape.IsSHA(sha) {
		return nil
	}
	return usage.Errorf("the event's commit SHA %q is not a commit SHA (40 or 64 lowercase hex digits)", escape.Log(sha))
}

// PRNumberString is the pr-number output: "" when there is none.
func (e Event) PRNumberString() string {
	if e.PR == 0 {
		return ""
	}
	return strconv.Itoa(e.PR)
}

// ShortSHA is the 7-character abbreviation GitHub shows: the one short
// form of a commit everywhere. What is not hex (escape.Invalid, say) is
// returned whole.
func ShortSHA(sha string) string {
	if len(sha) > 7 && strings.Trim(sha, "0123456789abcdef") == "" {
		return sha[:7]
	}
	return sha
}

// OrWord is s, or word when s is empty.
func OrWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}
