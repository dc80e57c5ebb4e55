package e2e

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestExportEnvPlainInit: with export-env, prstate exports TF_CLI_ARGS_init
// through GITHUB_ENV, and the later steps' plain `terraform init` and
// `terraform plan` (the README's workflow) work on the PR key, not on
// production, whose lock is held meanwhile.
func TestExportEnvPlainInit(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockS3, true, "app")
	s.applyProduction(true)
	s.holdProductionLock()
	before := s.snapshot(prodKey)

	st := s.mustPrstate(prEvent(t, "opened", 42), map[string]string{"working-directory": "infra", "seed": "production", "export-env": "true"})
	const prKey = "app/pr-42/terraform.tfstate"
	want := map[string]string{"TF_CLI_ARGS_init": "-backend-config=prstate.s3.tfbackend"}
	if !reflect.DeepEqual(st.env, want) {
		t.Fatalf("GITHUB_ENV %v, want %v", st.env, want)
	}
	// The runner sets what GITHUB_ENV holds in every later step.
	env := st.exportedEnv()
	data := filepath.Join(t.TempDir(), "tf-pr")
	s.mustTerraform(data, env, "init")
	if got := backendConfigInDataDir(t, data)["key"]; got != prKey {
		t.Fatalf("plain terraform init configured key %v, want %s", got, prKey)
	}
	out, err := s.terraform(data, env, "plan", "-detailed-exitcode", "-lock-timeout=0s")
	if code := exitCode(t, err); code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("plan on the seeded PR key: exit %d\n%s", code, out)
	}
	if got := s.snapshot(prKey).Versions; len(got) != 3 || !strings.Contains(strings.Join(got, "\n"), prKey+".tflock@") {
		t.Errorf("PR key versions %v, want the seed and a locked-and-released .tflock", got)
	}
	if _, ok := s.getObject(prKey + ".tflock"); ok {
		t.Error("the PR key's .tflock is still there")
	}
	if after := s.snapshot(prodKey); !reflect.DeepEqual(before, after) {
		t.Errorf("production changed\nbefore: %s\nafter: %s", before, after)
	}
}
