package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGitHubWritesEnvironmentFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		env[f] = filepath.Join(dir, f)
	}
	var stderr bytes.Buffer
	r := New(func(k string) string { return env[k] }, &stderr)
	r.SetOutput("key", "app/pr-1/terraform.tfstate")
	r.SaveState("lock_id", "abc")
	r.SetEnv("TF_WORKSPACE", "pr-1")
	r.AddStepSummary("| a |")
	r.Warning("took over")
	r.Mask("s3cr3t")
	r.Mask("")
	read := func(name string) string { b, _ := os.ReadFile(env[name]); return string(b) }
	if !strings.Contains(read("GITHUB_OUTPUT"), "key<<") || !strings.Contains(read("GITHUB_OUTPUT"), "app/pr-1/terraform.tfstate") {
		t.Errorf("GITHUB_OUTPUT: %q", read("GITHUB_OUTPUT"))
	}
	if !strings.Contains(read("GITHUB_STATE"), "lock_id<<") || !strings.Contains(read("GITHUB_ENV"), "TF_WORKSPACE<<") || !strings.Contains(read("GITHUB_STEP_SUMMARY"), "| a |") {
		t.Errorf("state %q env %q summary %q", read("GITHUB_STATE"), read("GITHUB_ENV"), read("GITHUB_STEP_SUMMARY"))
	}
	if got := stderr.String(); got != "::warning::took over\n::add-mask::s3cr3t\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestGitLabWritesDotenv(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "prstate.env")
	env := map[string]string{"GITLAB_CI": "true", "PRSTATE_DOTENV": path}
	var stderr bytes.Buffer
	r := New(func(k string) string { return env[k] }, &stderr)
	r.SetOutput("key", "app/pr-3/terraform.tfstate")
	r.SetOutput("is-pull-request", "true")
	r.SetOutput("key", "app/pr-4/terraform.tfstate")
	r.Warning("careful")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "PRSTATE_OUT_IS_PULL_REQUEST=true\nPRSTATE_OUT_KEY=app/pr-4/terraform.tfstate\n" {
		t.Fatalf("dotenv %q", got)
	}
	if stderr.String() != "warning: careful\n" {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestPlainPrintsAnnotationsOnly(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	r := New(func(string) string { return "" }, &stderr)
	r.SetOutput("key", "x")
	r.Mask("secret")
	r.Error("boom")
	if stderr.String() != "error: boom\n" {
		t.Fatalf("stderr %q", stderr.String())
	}
}
