package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeIAMCommandsRunAsWritten: the prstate iam commands of README's
// "Least-privilege roles" run as written outside CI (no GITHUB_*
// variables), in a repository with the infra stack they name; the --json
// one prints the JSON jq reads .policy of.
func TestReadmeIAMCommandsRunAsWritten(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Least-privilege roles\n")
	if !ok {
		t.Fatal("no Least-privilege roles section")
	}
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	block = strings.ReplaceAll(block, "\\\n", " ")
	var ran int
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line, pipe, _ := strings.Cut(line, "|")
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "prstate" || fields[1] != "iam" {
			continue
		}
		a := newTestApp(t, Store{})
		if err := os.MkdirAll(filepath.Join(a.dir, "infra"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(a.dir, "infra/main.tf"), []byte("terraform {\n  backend \"s3\" {\n    bucket = \"acme-state\"\n    key    = \"app/terraform.tfstate\"\n    region = \"eu-west-1\"\n  }\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code := a.run(fields[1:]...); code != 0 {
			t.Fatalf("README's %q: exit %d: %s", strings.Join(fields, " "), code, a.stderr.String())
		}
		if strings.Contains(pipe, "jq .policy") {
			var out struct{ Policy map[string]any }
			if err := json.Unmarshal(a.stdout.Bytes(), &out); err != nil || out.Policy["Statement"] == nil {
				t.Fatalf("README's %q: no .policy in %s (%v)", strings.Join(fields, " "), a.stdout.String(), err)
			}
		}
		ran++
	}
	if ran != 2 {
		t.Fatalf("ran %d prstate iam commands of README, want 2", ran)
	}
}
