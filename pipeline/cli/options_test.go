package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// Each command requires only what it uses, and a mistake in a setting it
// does not use does not fail it.
func TestCommandsRequireOnlyWhatTheyUse(t *testing.T) {
	t.Parallel()
	t.Run("key needs no bucket, region or table", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, Store{})
		if code := a.run("key", "--key", "app/terraform.tfstate", "--pr", "4"); code != 0 || a.stdout.String() != "app/pr-4/terraform.tfstate\n" {
			t.Fatalf("exit %d stdout %q stderr %q", code, a.stdout.String(), a.stderr.String())
		}
	})
	t.Run("status lists every lock without a key", func(t *testing.T) {
		t.Parallel()
		bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
		a := newTestApp(t, Store{Bucket: bucket, Table: table})
		for _, key := range []string{"app/terraform.tfstate", "net/terraform.tfstate"} {
			if code := a.run("lock", "--bucket", "acme-state", "--key", key, "--dynamodb-table", "tf-locks"); code != 0 {
				t.Fatalf("lock %s: exit %d: %s", key, code, a.stderr.String())
			}
		}
		if code := a.run("status", "--bucket", "acme-state", "--dynamodb-table", "tf-locks", "--json"); code != 0 {
			t.Fatalf("status: exit %d: %s", code, a.stderr.String())
		}
		var locks []applylock.LockEntry
		if err := json.Unmarshal(a.stdout.Bytes(), &locks); err != nil || len(locks) != 2 {
			t.Fatalf("status: %v %s", err, a.stdout.String())
		}
		if code := a.run("status", "--bucket", "acme-state"); code != 0 {
			t.Fatalf("status without a table: exit %d: %s", code, a.stderr.String())
		}
		if code := a.run("status"); code != 2 || !strings.Contains(a.stderr.String(), "no bucket") {
			t.Fatalf("status without a bucket: exit %d: %s", code, a.stderr.String())
		}
	})
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"a bad lock-timeout does not fail key", map[string]string{"PRSTATE_LOCK_TIMEOUT": "garbage"}, []string{"key", "--key", "app/terraform.tfstate", "--pr", "4"}},
		{"a bad lease does not fail plan", map[string]string{"INPUT_LEASE": "xyz", "INPUT_LOCK-POLL": "1ns", "INPUT_DRY-RUN": "maybe"}, []string{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "4"}},
		{"a bad key-template does not fail status", map[string]string{"PRSTATE_KEY_TEMPLATE": "{pr}", "INPUT_ISOLATION": "branch", "INPUT_KEY": "../x"}, []string{"status", "--bucket", "acme-state"}},
		{"a bad comment or seed does not fail sweep", map[string]string{"INPUT_COMMENT": "yes please", "INPUT_SEED": "staging"}, []string{"sweep", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--older-than", "1h"}},
		{"a bad older-than does not fail cleanup", map[string]string{"INPUT_OLDER-THAN": "soon", "INPUT_LEASE": "xyz"}, []string{"cleanup", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "4"}},
		{"a bad bucket name does not fail key", map[string]string{"INPUT_BUCKET": "a"}, []string{"key", "--key", "app/terraform.tfstate"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state")})
			for k, v := range c.env {
				a.env[k] = v
			}
			if code := a.run(c.args...); code != 0 {
				t.Fatalf("exit %d: %s", code, a.stderr.String())
			}
		})
	}
	// ... while a mistake in a setting the command uses still fails it.
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"INPUT_LEASE": "xyz"}, []string{"lock", "--bucket", "acme-state", "--key", "app/terraform.tfstate"}, "invalid lease"},
		{map[string]string{"PRSTATE_LOCK_TIMEOUT": "garbage"}, []string{"cleanup", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--pr", "4"}, "invalid lock-timeout"},
		{map[string]string{"INPUT_KEY-TEMPLATE": "{pr}"}, []string{"key", "--key", "app/terraform.tfstate"}, "template"},
	} {
		a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state")})
		for k, v := range c.env {
			a.env[k] = v
		}
		if code := a.run(c.args...); code != 2 || !strings.Contains(a.stderr.String(), c.want) {
			t.Errorf("%v %v: exit %d, want 2 with %q: %s", c.env, c.args, code, c.want, a.stderr.String())
		}
	}
}

// Flags win over PRSTATE_<NAME>, which wins over INPUT_<NAME> (hyphens
// kept, upper case, trimmed), which wins over the default.
func TestSettingPrecedence(t *testing.T) {
	t.Parallel()
	key := func(env map[string]string, args ...string) string {
		t.Helper()
		a := newTestApp(t, Store{})
		for k, v := range env {
			a.env[k] = v
		}
		if code := a.run(append([]string{"key", "--pr", "7"}, args...)...); code != 0 {
			t.Fatalf("exit %d: %s", code, a.stderr.String())
		}
		return strings.TrimSpace(a.stdout.String())
	}
	env := map[string]string{"PRSTATE_KEY_TEMPLATE": "{dir}/env-{pr}/{file}", "INPUT_KEY-TEMPLATE": "{dir}/input-{pr}/{file}", "INPUT_KEY": " app/terraform.tfstate\n"}
	if got := key(env, "--key-template", "{dir}/flag-{pr}/{file}"); got != "app/flag-7/terraform.tfstate" {
		t.Errorf("flag: %s", got)
	}
	if got := key(env); got != "app/env-7/terraform.tfstate" {
		t.Errorf("env: %s", got)
	}
	delete(env, "PRSTATE_KEY_TEMPLATE")
	if got := key(env); got != "app/input-7/terraform.tfstate" {
		t.Errorf("input: %s", got)
	}
	delete(env, "INPUT_KEY-TEMPLATE")
	if got := key(env); got != "app/pr-7/terraform.tfstate" {
		t.Errorf("default: %s", got)
	}
}

// The event is read once per process, also under command: auto.
func TestEventReadOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_opened.json")
	reads := 0
	app := a.app()
	app.ReadFile = func(p string) ([]byte, error) {
		if p == a.env["GITHUB_EVENT_PATH"] {
			reads++
		}
		return os.ReadFile(p)
	}
	a.env["INPUT_BUCKET"], a.env["INPUT_KEY"] = "acme-state", "app/terraform.tfstate"
	if code := app.Run(t.Context(), nil); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if reads != 1 || a.stdout.String() != "app/pr-42/terraform.tfstate\n" {
		t.Fatalf("event read %d times; stdout %q", reads, a.stdout.String())
	}
}

// A working-directory glob that matches only files, or a path, glob or
// symlink that leads outside the workspace, is a one-line error, exit 2.
func TestWorkingDirectoryConfined(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeStack(t, outside, "app/terraform.tfstate")
	cases := []struct {
		name, spec, want string
		workspace        bool // GITHUB_WORKSPACE set to the test's dir/ws
	}{
		{"a glob of files", "*.md", "matches no directory", false},
		{"a glob outside", "../../*", "outside the workspace", false},
		{"an absolute path outside", "/etc", "outside the workspace", false},
		{"a relative path outside", "..", "outside the workspace", false},
		{"a symlink out", "escape", "outside the workspace", false},
		{"a glob reaching a symlink out", "e*", "outside the workspace", false},
		{"outside GITHUB_WORKSPACE", ".", "outside the workspace", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, Store{})
			writeStack(t, a.dir, "app/terraform.tfstate")
			if err := os.WriteFile(filepath.Join(a.dir, "README.md"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(a.dir, "escape")); err != nil {
				t.Fatal(err)
			}
			if c.workspace {
				a.env["GITHUB_WORKSPACE"] = filepath.Join(a.dir, "ws")
			}
			code := a.run("key", "--pr", "3", "--working-directory", c.spec)
			lines := strings.Split(strings.TrimSpace(a.stderr.String()), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.want) || !strings.HasPrefix(lines[0], "prstate: ") {
				t.Fatalf("exit %d, want 2 and one line with %q: %q", code, c.want, a.stderr.String())
			}
		})
	}
	// Inside the workspace: a symlink to a directory in it, and a glob.
	a := newTestApp(t, Store{})
	writeStack(t, filepath.Join(a.dir, "stacks", "app"), "app/terraform.tfstate")
	if err := os.Symlink(filepath.Join(a.dir, "stacks", "app"), filepath.Join(a.dir, "app")); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"app", "stacks/*", "./stacks/../app", filepath.Join(a.dir, "stacks", "app")} {
		if code := a.run("key", "--pr", "3", "--working-directory", spec); code != 0 || a.stdout.String() != "app/pr-3/terraform.tfstate\n" {
			t.Errorf("%s: exit %d: %s %s", spec, code, a.stdout.String(), a.stderr.String())
		}
	}
}

// GitLab's dotenv outputs (PRSTATE_OUT_<NAME>) are never read as settings:
// no setting's environment variable starts like them.
func TestGitLabOutputsAreNotSettings(t *testing.T) {
	t.Parallel()
	for _, s := range declared {
		if strings.HasPrefix(s.EnvName(), runner.GitLabOutputPrefix) {
			t.Errorf("setting %s is read from %s, the namespace of GitLab outputs", s.name, s.EnvName())
		}
	}
	a := newTestApp(t, Store{})
	a.env["GITLAB_CI"], a.env["CI_PIPELINE_SOURCE"], a.env["CI_MERGE_REQUEST_IID"] = "true", "merge_request_event", "42"
	a.env["PRSTATE_DOTENV"] = filepath.Join(a.dir, "prstate.env")
	for range 2 { // the second run sees the first one's outputs
		if code := a.run("key", "--key", "app/terraform.tfstate"); code != 0 || a.stdout.String() != "app/pr-42/terraform.tfstate\n" {
			t.Fatalf("exit %d stdout %q: %s", code, a.stdout.String(), a.stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(a.file("prstate.env")), "\n") {
			k, v, _ := strings.Cut(line, "=")
			a.env[k] = v
		}
	}
}
