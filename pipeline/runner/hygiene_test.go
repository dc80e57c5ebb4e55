package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitHubOutputsCannotInjectAnother: go-githubactions writes
// name<<DELIM, the value, DELIM with a fixed delimiter; a value carrying
// the delimiter and a new name must stay one value. Annotations stay one
// line.
func TestGitHubOutputsCannotInjectAnother(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV"} {
		env[f] = filepath.Join(dir, f)
	}
	var stderr bytes.Buffer
	rep := New(func(k string) string { return env[k] }, &stderr)
	evil := "k\n_GitHubActionsFileCommandDelimeter_\nlock-id<<EOF\nstolen\nEOF\r\nx"
	rep.SetOutput("key", evil)
	rep.SaveState("lock_id", evil)
	rep.SetEnv("PRSTATE_KEY", evil)
	rep.Warning("held by " + evil + "\n::set-output name=x::y")
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV"} {
		b, err := os.ReadFile(env[f])
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != 3 || lines[2] != "_GitHubActionsFileCommandDelimeter_" || strings.Contains(string(b), "\r") {
			t.Errorf("%s carries more than one value:\n%s", f, b)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "::warning::held by") {
			t.Errorf("stderr line %q", line)
		}
	}
}
