package runner

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// What the GitHub writer writes, ParseFileCommands reads back.
func TestParseFileCommandsReadsTheWriter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV"} {
		env[f] = filepath.Join(dir, f)
	}
	r := New(func(k string) string { return env[k] }, os.Stderr)
	r.SetOutput("key", "app/pr-1/terraform.tfstate")
	r.SetOutput("multi", "a\nb") // escaped to one line by the writer
	r.SetEnv("TF_WORKSPACE", "pr-1")
	raw, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseFileCommands(string(raw) + "plain=x=y\n")
	if want := map[string]string{"key": "app/pr-1/terraform.tfstate", "multi": `a\nb`, "plain": "x=y"}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("outputs %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"name<<EOF\nvalue\n", "no equals sign\n"} {
		if _, err := ParseFileCommands(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Heredoc values keep their lines.
func TestParseFileCommandsHeredoc(t *testing.T) {
	t.Parallel()
	got, err := ParseFileCommands("multi<<ghadelimiter_1\na\nb\nghadelimiter_1\n")
	if err != nil || got["multi"] != "a\nb" {
		t.Fatalf("%q, %v", got, err)
	}
}
