package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A runner without some file commands gets one warning per missing file
// and no panic; the files it has are written as usual.
func TestGitHubWithoutSomeFiles(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "output")
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out}
	var stderr bytes.Buffer
	r := New(func(k string) string { return env[k] }, &stderr)
	for range 2 {
		r.SetOutput("key", "app/pr-1/terraform.tfstate")
		r.SaveState("prstate_post", "true")
		r.SetEnv("TF_CLI_ARGS_init", "-backend-config=x")
		r.AddStepSummary("### prstate\n")
	}
	for _, missing := range []string{"GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		if n := strings.Count(stderr.String(), "::warning::"+missing+" is not set"); n != 1 {
			t.Errorf("%d warnings about %s, want 1:\n%s", n, missing, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "GITHUB_OUTPUT") {
		t.Errorf("warned about GITHUB_OUTPUT, which is set:\n%s", stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), "\napp/pr-1/terraform.tfstate\n") != 2 {
		t.Errorf("GITHUB_OUTPUT:\n%s", b)
	}
}

// A file that cannot be written is a warning, not a crash.
func TestGitHubUnwritableFile(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "no", "such", "dir")}
	var stderr bytes.Buffer
	New(func(k string) string { return env[k] }, &stderr).AddStepSummary("x")
	if !strings.Contains(stderr.String(), "::warning::failed to write GITHUB_STEP_SUMMARY") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
