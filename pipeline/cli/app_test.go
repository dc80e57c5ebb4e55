package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock"
)

// testApp runs the CLI in-process with env as the whole environment and
// open as the storage, like the action container would (files under dir).
type testApp struct {
	t      *testing.T
	dir    string
	env    map[string]string
	open   func(context.Context, backend.Backend) (Store, error)
	clock  clock.Clock
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func newTestApp(t *testing.T, store Store) *testApp {
	t.Helper()
	return &testApp{t: t, dir: t.TempDir(), env: map[string]string{}, clock: clock.Real, open: func(context.Context, backend.Backend) (Store, error) { return store, nil }}
}

// actions makes the environment look like a GitHub Actions job for event.
func (a *testApp) actions(event, payload string) {
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		a.env[f] = filepath.Join(a.dir, strings.ToLower(f))
	}
	abs, err := filepath.Abs(filepath.Join("..", "ci", "testdata", "events", payload))
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": abs,
		"GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_SHA": "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912", "GITHUB_REF": "refs/heads/main",
		"GITHUB_SERVER_URL": "https://github.com",
		"PATH":              os.Getenv("PATH"), // git, unlike the action's image
	} {
		a.env[k] = v
	}
}

func (a *testApp) run(args ...string) int {
	a.stdout.Reset()
	a.stderr.Reset()
	return a.app().Run(context.Background(), args)
}

// app is the App of one run: the test's environment, files and store.
func (a *testApp) app() *App {
	return &App{
		Env: func(k string) string { return a.env[k] }, Stdout: &a.stdout, Stderr: &a.stderr,
		FS: os.DirFS("/"), Cwd: a.dir, ReadFile: os.ReadFile, Clock: a.clock, Open: a.open,
	}
}

func (a *testApp) file(name string) string {
	b, err := os.ReadFile(filepath.Join(a.dir, name))
	if err != nil && !os.IsNotExist(err) {
		a.t.Fatal(err)
	}
	return string(b)
}

func TestKeyCommand(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	if code := a.run("key", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "42"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if got := a.stdout.String(); got != "app/pr-42/terraform.tfstate\n" {
		t.Fatalf("stdout %q", got)
	}
	if code := a.run("key", "--bucket", "acme-state", "--key", "app/terraform.tfstate"); code != 0 || a.stdout.String() != "app/terraform.tfstate\n" {
		t.Fatalf("production key: exit %d stdout %q", code, a.stdout.String())
	}
}

func TestKeyCommandUnderActions(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_synchronize.json")
	a.env["INPUT_BUCKET"], a.env["INPUT_KEY"] = "acme-state", "app/terraform.tfstate"
	if code := a.run("key"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	out := a.file("github_output")
	for _, want := range []string{"key<<", "app/pr-42/terraform.tfstate", "pr-number<<", "\n42\n", "is-pull-request<<", "\ntrue\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, out)
		}
	}
}

func TestAutoCommand(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"pull_request_opened.json": "plan", "pull_request_synchronize.json": "plan", "pull_request_reopened.json": "plan",
		"pull_request_closed_merged.json": "cleanup", "pull_request_closed_unmerged.json": "cleanup",
		"push.json": "lock", "schedule.json": "sweep", "merge_group.json": "plan",
	}
	for payload, want := range cases {
		event := strings.TrimSuffix(payload, ".json")
		for _, e := range []string{"pull_request", "push", "schedule", "merge_group"} {
			if strings.HasPrefix(event, e) {
				event = e
			}
		}
		m := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": filepath.Join("..", "ci", "testdata", "events", payload), "GITHUB_REF": "refs/heads/main"}
		ev, err := ci.DetectEvent(func(k string) string { return m[k] }, os.ReadFile, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := AutoCommand(ev); got != want || err != nil {
			t.Errorf("%s: auto = %q, %v; want %q", payload, got, err, want)
		}
	}
}

func TestPlanCommandWritesBackendConfig(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_opened.json")
	if code := a.run("plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--region", "eu-west-1", "--dynamodb-table", "tf-locks", "--export-env"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	want := "# written by prstate: terraform init -backend-config=<this file>\n" +
		"bucket               = \"acme-state\"\n" +
		"key                  = \"app/pr-42/terraform.tfstate\"\n" +
		"region               = \"eu-west-1\"\n" +
		"dynamodb_table       = \"tf-locks\"\n"
	if got := a.file(defaultBackendFile); got != want {
		t.Fatalf("backend config:\n%s\nwant:\n%s", got, want)
	}
	if env := a.file("github_env"); !strings.Contains(env, "TF_CLI_ARGS_init<<") || !strings.Contains(env, "-backend-config=prstate.s3.tfbackend") {
		t.Fatalf("GITHUB_ENV:\n%s", env)
	}
	if s := a.file("github_step_summary"); !strings.Contains(s, "`app/pr-42/terraform.tfstate`") {
		t.Fatalf("step summary:\n%s", s)
	}
}

func TestBadInputExits2AndWritesNothing(t *testing.T) {
	t.Parallel()
	cases := [][]string{
		{"plan", "--bucket", "acme-state", "--key", "app/../terraform.tfstate", "--pr", "4"},
		{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "0"},
		{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "-2"},
		{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "x"},
		{"plan", "--key", "app/terraform.tfstate", "--pr", "4"},
		{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--no-such-flag"},
		{"frobnicate"},
	}
	for _, args := range cases {
		a := newTestApp(t, Store{})
		a.actions("pull_request", "pull_request_opened.json")
		if code := a.run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, a.stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(a.stderr.String()), "\n")
		if !strings.HasPrefix(lines[0], "prstate: ") && !strings.Contains(a.stderr.String(), "prstate: ") {
			t.Errorf("%v: no one-line error: %q", args, a.stderr.String())
		}
		for _, f := range []string{defaultBackendFile, "github_output", "github_env"} {
			if a.file(f) != "" {
				t.Errorf("%v: wrote %s", args, f)
			}
		}
	}
	a := newTestApp(t, Store{})
	a.actions("issue_comment", "push.json")
	if code := a.run(); code != 2 || !strings.Contains(a.stderr.String(), "unsupported event") {
		t.Errorf("unknown event: exit %d, %q", code, a.stderr.String())
	}
}
