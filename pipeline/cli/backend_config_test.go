package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// loadBackendConfig is loadTestConfig: the stacks and the lock store.
func loadBackendConfig(t *testing.T, fsys fstest.MapFS, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	return loadTestConfig(t, fsys, env, args...)
}

const emptyBlock = "terraform {\n  backend \"s3\" {}\n}\n"

// TestBackendConfigSetting: repeated --backend-config flags in order, else
// PRSTATE_BACKEND_CONFIG, else the input, newline or comma separated;
// later items win; the explicit settings win over all of it, and each
// setting says where it came from.
func TestBackendConfigSetting(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"repo/infra/main.tf":           {Data: []byte(emptyBlock)},
		"repo/infra/prod.s3.tfbackend": {Data: []byte("bucket = \"prod-state\"\nkey = \"app/terraform.tfstate\"\nregion = \"eu-west-1\"\n")},
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		bucket string
		key    string
		from   map[string]string
	}{
		{"flags", nil, []string{"--working-directory", "infra", "--backend-config", "prod.s3.tfbackend", "--backend-config", "key=other/terraform.tfstate"}, "prod-state", "other/terraform.tfstate",
			map[string]string{"bucket": "backend-config file infra/prod.s3.tfbackend:1", "key": "backend-config key=other/terraform.tfstate"}},
		{"env", map[string]string{"PRSTATE_BACKEND_CONFIG": "prod.s3.tfbackend,key=env/terraform.tfstate", "INPUT_BACKEND-CONFIG": "key=input"}, []string{"--working-directory", "infra"}, "prod-state", "env/terraform.tfstate", nil},
		{"input", map[string]string{"INPUT_BACKEND-CONFIG": "prod.s3.tfbackend\nkey=input/terraform.tfstate\n"}, []string{"--working-directory", "infra"}, "prod-state", "input/terraform.tfstate", nil},
		{"flags win over env", map[string]string{"PRSTATE_BACKEND_CONFIG": "bucket=env-bucket"}, []string{"--working-directory", "infra", "--backend-config", "prod.s3.tfbackend"}, "prod-state", "app/terraform.tfstate", nil},
		{"explicit settings win", map[string]string{"INPUT_BACKEND-CONFIG": "prod.s3.tfbackend", "INPUT_BUCKET": "input-bucket"}, []string{"--working-directory", "infra", "--key", "flag/terraform.tfstate"}, "input-bucket", "flag/terraform.tfstate",
			map[string]string{"bucket": "input bucket", "key": "--key", "region": "backend-config file infra/prod.s3.tfbackend:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadBackendConfig(t, fsys, tc.env, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			st := c.Main()
			if st.Backend.Bucket != tc.bucket || st.Backend.Key != tc.key || st.Keys.Production != tc.key {
				t.Errorf("bucket %q key %q production %q, want %q %q", st.Backend.Bucket, st.Backend.Key, st.Keys.Production, tc.bucket, tc.key)
			}
			for name, want := range tc.from {
				if got := st.Resolved.Source(name); got != want {
					t.Errorf("%s from %q, want %q", name, got, want)
				}
			}
		})
	}
	_, err := loadBackendConfig(t, fsys, nil, "--working-directory", "infra")
	if err == nil || err.Error() != `backend "s3" block in infra/main.tf sets no bucket: pass your -backend-config file or pairs to prstate as backend-config (input backend-config, --backend-config, PRSTATE_BACKEND_CONFIG)` {
		t.Errorf("empty block: %v", err)
	}
}

// TestKeysInAWorkspace: outside the default workspace production's state
// is <prefix>/<workspace>/<key>; under isolation key the PR key sits beside
// it (the PR file's key drops the workspace prefix again), under
// isolation workspace the PR's is workspace pr-N.
func TestKeysInAWorkspace(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"repo/main.tf": {Data: []byte("terraform {\n  backend \"s3\" {\n    bucket = \"b-1\"\n    key = \"app/terraform.tfstate\"\n  }\n}\n")}}
	env := map[string]string{"TF_WORKSPACE": "staging"}
	c, err := loadBackendConfig(t, fsys, env)
	if err != nil {
		t.Fatal(err)
	}
	k := c.Main().Keys
	pr, _ := k.Render(42)
	if k.Production != "env:/staging/app/terraform.tfstate" || pr != "env:/staging/app/pr-42/terraform.tfstate" || c.Main().Resolved.KeyFor(pr) != "app/pr-42/terraform.tfstate" {
		t.Errorf("production %q PR %q", k.Production, pr)
	}
	c, err = loadBackendConfig(t, fsys, env, "--isolation", "workspace")
	if err != nil {
		t.Fatal(err)
	}
	k = c.Main().Keys
	pr, _ = k.Render(42)
	if k.Production != "env:/staging/app/terraform.tfstate" || pr != "env:/pr-42/app/terraform.tfstate" || k.Workspace(42) != "pr-42" {
		t.Errorf("workspace isolation: production %q PR %q", k.Production, pr)
	}
	// a PR workspace exported for a PR job is not production's
	c, err = loadBackendConfig(t, fsys, map[string]string{"TF_WORKSPACE": "pr-42"}, "--isolation", "workspace")
	if err != nil || c.Main().Keys.Production != "app/terraform.tfstate" {
		t.Errorf("TF_WORKSPACE=pr-42: %v %+v", err, c.Main().Keys)
	}
}

func TestIsPRWorkspace(t *testing.T) {
	t.Parallel()
	for ws, want := range map[string]bool{"pr-1": true, "pr-420": true, "pr-0": false, "pr-01": false, "pr-": false, "staging": false, "default": false, "pr-1a": false} {
		if isPRWorkspace(ws) != want {
			t.Errorf("isPRWorkspace(%q) = %v", ws, !want)
		}
	}
}

// TestPlanPostStepChecksInit: the plan's main step saves what init must
// configure; its post step passes on the PR key and fails (exit 1, an
// error annotation naming the fix) on production's.
func TestPlanPostStepChecksInit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_opened.json")
	infra := filepath.Join(a.dir, "infra")
	if err := os.MkdirAll(filepath.Join(infra, ".terraform"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(infra, "main.tf"), []byte(backendTF), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := a.run("plan", "--working-directory", "infra"); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, a.stderr.String())
	}
	state := savedState(t, a.file("github_state"))
	if !strings.Contains(state["prstate_pr_init"], `"key":"app/pr-42/terraform.tfstate"`) {
		t.Fatalf("saved state %v", state)
	}
	post := func(recordedKey string) (int, string) {
		rec := `{"version": 3, "backend": {"type": "s3", "config": {"bucket": "acme-tfstate", "key": "` + recordedKey + `"}}}`
		if err := os.WriteFile(filepath.Join(infra, ".terraform", "terraform.tfstate"), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
		p := newTestApp(t, Store{})
		p.dir = a.dir
		p.actions("pull_request", "pull_request_opened.json")
		for k, v := range state {
			p.env["STATE_"+k] = v
		}
		code := p.run()
		return code, p.stderr.String()
	}
	if code, out := post("app/pr-42/terraform.tfstate"); code != 0 || !strings.Contains(out, "init configured the pull request's state s3://acme-tfstate/app/pr-42/terraform.tfstate") {
		t.Errorf("post step on the PR key: exit %d\n%s", code, out)
	}
	code, out := post("app/terraform.tfstate")
	for _, want := range []string{"::error::", "init configured s3://acme-tfstate/app/terraform.tfstate (production's state), not the pull request's s3://acme-tfstate/app/pr-42/terraform.tfstate: pass -backend-config=prstate.s3.tfbackend last to init"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("post step on production's key: exit %d, want 1 and %q\n%s", code, want, out)
		}
	}
}

// TestPlanWritesTheCompleteFile: the PR file holds every argument of the
// block, not only bucket, key and the lock settings.
func TestPlanWritesTheCompleteFile(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_opened.json")
	if err := os.WriteFile(filepath.Join(a.dir, "main.tf"), []byte(backendTF), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := a.run("plan"); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, a.stderr.String())
	}
	var names []string
	for _, l := range strings.Split(a.file("prstate.s3.tfbackend"), "\n") {
		if name, _, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(l, "#") {
			names = append(names, name)
		}
	}
	if want := []string{"bucket", "key", "region", "dynamodb_table", "endpoints", "use_lockfile"}; !reflect.DeepEqual(names, want) {
		t.Errorf("arguments %v, want %v\n%s", names, want, a.file("prstate.s3.tfbackend"))
	}
}
