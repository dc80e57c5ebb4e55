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
	if a.Runs.Using != "docker" || a.Runs.PostEntrypoint != "/prstate" || a.Runs.PostIf != "always()" || a.Branding["icon"] == "" {
		t.Fatalf("runs/branding: %+v %v", a.Runs, a.Branding)
	}
	if !pinnedImage(a.Runs.Image) {
		t.Fatalf("action.yml runs image %q: want Dockerfile (development) or an image pinned by digest, never a mutable tag", a.Runs.Image)
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

// digestPinned is an image reference by digest: what a release commit of
// action.yml names (release.yml writes it).
var digestPinned = regexp.MustCompile(`^docker://ghcr\.io/prstate/prstate@sha256:[0-9a-f]{64}$`)

// pinnedImage: action.yml builds the Dockerfile (the default branch), or
// runs one image by digest (a release commit); a tag (:v1, :latest) can be
// moved under users who pinned the action's commit.
func pinnedImage(image string) bool { return image == "Dockerfile" || digestPinned.MatchString(image) }

func TestPinnedImage(t *testing.T) {
	t.Parallel()
	for image, want := range map[string]bool{
		"Dockerfile": true,
		"docker://ghcr.io/prstate/prstate@sha256:" + strings.Repeat("ab", 32):    true,
		"docker://ghcr.io/prstate/prstate:v1":                                    false,
		"docker://ghcr.io/prstate/prstate:latest":                                false,
		"docker://ghcr.io/prstate/prstate":                                       false,
		"docker://ghcr.io/prstate/prstate:v1@sha256:" + strings.Repeat("ab", 32): false,
		"docker://ghcr.io/evil/prstate@sha256:" + strings.Repeat("ab", 32):       false,
	} {
		if got := pinnedImage(image); got != want {
			t.Errorf("pinnedImage(%q) = %v, want %v", image, got, want)
		}
	}
}

// The release workflow takes the digest from build-push-action's outputs
// and writes it into action.yml in the commit it tags.
func TestReleaseWorkflowPinsTheImageByDigest(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(".github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	wf := string(raw)
	for _, want := range []string{"docker/build-push-action", "steps.image.outputs.digest", `image: $ref`, `git tag -a "$VERSION"`, `ref="docker://$IMAGE@$DIGEST"`} {
		if !strings.Contains(wf, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	if strings.Contains(wf, "type=semver,pattern=v{{major}}") {
		t.Error("release.yml still publishes a moving major image tag for action.yml")
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
