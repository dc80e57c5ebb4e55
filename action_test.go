package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/prstate/prstate/pipeline/cli"
)

type actionFile struct {
	Inputs  map[string]struct{ Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Description string }
	Runs    struct {
		Using          string `yaml:"using"`
		Image          string `yaml:"image"`
		PostEntrypoint string `yaml:"post-entrypoint"`
		PostIf         string `yaml:"post-if"`
	} `yaml:"runs"`
	Branding map[string]string `yaml:"branding"`
}

// Every action input is a setting the CLI reads (INPUT_<NAME>), and every
// output is one some command sets.
func TestActionYAMLMatchesTheCLI(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	if a.Runs.Using != "docker" || !strings.HasPrefix(a.Runs.Image, "docker://") || a.Runs.PostEntrypoint != "/prstate" || a.Runs.PostIf != "always()" || a.Branding["icon"] == "" {
		t.Fatalf("runs/branding: %+v %v", a.Runs, a.Branding)
	}
	settings := cli.SettingNames()
	for name := range a.Inputs {
		if !slices.Contains(settings, name) {
			t.Errorf("input %q is not a prstate setting", name)
		}
	}
	for _, want := range []string{"command", "working-directory", "bucket", "key", "region", "dynamodb-table", "lock-backend", "isolation", "key-template", "seed", "lock-timeout", "github-token", "comment", "dry-run", "older-than", "force"} {
		if _, ok := a.Inputs[want]; !ok {
			t.Errorf("input %q missing", want)
		}
	}
	if a.Inputs["github-token"].Default != "${{ github.token }}" {
		t.Errorf("github-token default %q", a.Inputs["github-token"].Default)
	}
	src := goSources(t)
	setOutput := regexp.MustCompile(`SetOutput\("([a-z-]+)"`)
	set := map[string]bool{}
	for _, m := range setOutput.FindAllStringSubmatch(src, -1) {
		set[m[1]] = true
	}
	for name := range a.Outputs {
		if !set[name] {
			t.Errorf("output %q is never set by the code", name)
		}
	}
	for name := range set {
		if _, ok := a.Outputs[name]; !ok {
			t.Errorf("the code sets output %q that action.yml does not declare", name)
		}
	}
}

func goSources(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := walkGo("pipeline", func(p string) error {
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
