package ci

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/usage"
)

func githubEnv(event, payload string) Env {
	m := map[string]string{
		"GITHUB_ACTIONS":     "true",
		"GITHUB_EVENT_NAME":  event,
		"GITHUB_EVENT_PATH":  filepath.Join("testdata", "events", payload),
		"GITHUB_REF":         "refs/heads/main",
		"GITHUB_SHA":         "dddddddddddddddddddddddddddddddddddddddd",
		"GITHUB_REPOSITORY":  "acme/infra",
		"GITHUB_RUN_ID":      "9001",
		"GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_SERVER_URL":  "https://github.com",
	}
	return func(k string) string { return m[k] }
}

func TestDetectEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		event, payload string
		kind           Kind
		action         string
		pr             int
		merged, closed bool
		sha            string
	}{
		{"pull_request", "pull_request_opened.json", KindPullRequest, "opened", 42, false, false, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"pull_request", "pull_request_synchronize.json", KindPullRequest, "synchronize", 42, false, false, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		{"pull_request", "pull_request_reopened.json", KindPullRequest, "reopened", 42, false, false, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		{"pull_request_target", "pull_request_closed_merged.json", KindPullRequest, "closed", 42, true, true, "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"},
		{"pull_request", "pull_request_closed_unmerged.json", KindPullRequest, "closed", 42, false, true, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		{"merge_group", "merge_group.json", KindPullRequest, "merge_group", 42, false, false, "dddddddddddddddddddddddddddddddddddddddd"},
		{"push", "push.json", KindPush, "", 0, false, false, "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"},
		{"schedule", "schedule.json", KindSchedule, "", 0, false, false, "dddddddddddddddddddddddddddddddddddddddd"},
		{"workflow_dispatch", "workflow_dispatch.json", KindManual, "", 0, false, false, "dddddddddddddddddddddddddddddddddddddddd"},
	}
	for _, c := range cases {
		t.Run(c.payload, func(t *testing.T) {
			t.Parallel()
			ev, err := DetectEvent(githubEnv(c.event, c.payload), os.ReadFile, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != c.kind || ev.Action != c.action || ev.PR != c.pr || ev.Merged != c.merged || ev.Closed() != c.closed || ev.SHA != c.sha {
				t.Fatalf("got %+v", ev)
			}
			if ev.DefaultBranch != "main" || ev.RunURL != "https://github.com/acme/infra/actions/runs/9001" {
				t.Fatalf("default branch %q run URL %q", ev.DefaultBranch, ev.RunURL)
			}
		})
	}
}

func TestDetectEventPushToDefaultBranch(t *testing.T) {
	t.Parallel()
	ev, err := DetectEvent(githubEnv("push", "push.json"), os.ReadFile, 0)
	if err != nil || !ev.OnDefaultBranch() || ev.IsPullRequest() {
		t.Fatalf("got %+v, %v", ev, err)
	}
}

func TestDetectEventOutsideCI(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	ev, err := DetectEvent(none, os.ReadFile, 0)
	if err != nil || ev.Kind != KindManual || ev.IsPullRequest() {
		t.Fatalf("got %+v, %v", ev, err)
	}
	ev, err = DetectEvent(none, os.ReadFile, 7)
	if err != nil || !ev.IsPullRequest() || ev.PR != 7 {
		t.Fatalf("got %+v, %v", ev, err)
	}
}

func TestDetectEventGitLab(t *testing.T) {
	t.Parallel()
	m := map[string]string{"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "15", "CI_COMMIT_SHA": "abcabcabcabcabcabcabcabcabcabcabcabcabca", "CI_PIPELINE_URL": "https://gitlab.example/p/-/pipelines/3", "CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_SOURCE": "merge_request_event"}
	ev, err := DetectEvent(func(k string) string { return m[k] }, os.ReadFile, 0)
	if err != nil || ev.PR != 15 || !ev.IsPullRequest() || ev.SHA != m["CI_COMMIT_SHA"] || ev.RunURL != m["CI_PIPELINE_URL"] {
		t.Fatalf("got %+v, %v", ev, err)
	}
	m = map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push"}
	ev, err = DetectEvent(func(k string) string { return m[k] }, os.ReadFile, 0)
	if err != nil || !ev.OnDefaultBranch() {
		t.Fatalf("got %+v, %v", ev, err)
	}
}

func TestDetectEventBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, event, payload, want string
		prFlag                     int
	}{
		{"unknown event", "issue_comment", write("a.json", `{}`), "unsupported event", 0},
		{"pr zero", "pull_request", write("b.json", `{"action":"opened","number":0,"pull_request":{"number":0}}`), "invalid pull request number 0", 0},
		{"pr negative", "pull_request", write("c.json", `{"action":"opened","pull_request":{"number":-4}}`), "invalid pull request number -4", 0},
		{"no pull_request", "pull_request", write("d.json", `{"action":"opened"}`), "no pull_request", 0},
		{"garbage", "pull_request", write("e.json", `{`), "cannot parse", 0},
		{"missing payload", "push", filepath.Join(dir, "nope.json"), "cannot read", 0},
		{"bad merge queue ref", "merge_group", write("f.json", `{"merge_group":{"head_ref":"refs/heads/feature"}}`), "does not name a pull request", 0},
		{"flag contradicts", "pull_request", filepath.Join("testdata", "events", "pull_request_opened.json"), "contradicts", 5},
		{"head SHA not hex", "pull_request", write("g.json", `{"action":"opened","pull_request":{"number":3,"head":{"sha":"bbbb\n::warning::pwned"}}}`), "is not a commit SHA", 0},
		{"push after not hex", "push", write("h.json", `{"ref":"refs/heads/main","after":"--upload-pack=x"}`), "is not a commit SHA", 0},
		{"merge commit not hex", "pull_request", write("i.json", `{"action":"closed","pull_request":{"number":3,"merged":true,"merge_commit_sha":"main"}}`), "is not a commit SHA", 0},
		{"negative flag", "push", filepath.Join("testdata", "events", "push.json"), "invalid pull request number -5", -5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": c.event, "GITHUB_EVENT_PATH": c.payload}
			_, err := DetectEvent(func(k string) string { return m[k] }, os.ReadFile, c.prFlag)
			var ue *usage.Error
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want usage error containing %q", err, c.want)
			}
		})
	}
}
