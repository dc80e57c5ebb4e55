package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// Tofu returns the path of the OpenTofu binary, found on PATH or in
// $(go env GOPATH)/bin, where .ci/run builds it (see GoTool).
func Tofu(t testing.TB) string {
	t.Helper()
	SkipShort(t, "tofu")
	return GoTool(t, "tofu")
}

// TerraformCLI is a Terraform-compatible CLI: terraform or tofu.
type TerraformCLI struct {
	Name string // "terraform" or "tofu"
	Path string
}

// Env returns what the binary should run with, to append to os.Environ()
// (after the server's Env): no prompts, no update check, and an empty CLI
// configuration (TF_CLI_CONFIG_FILE=/dev/null, read by both), so neither
// warns about a missing ~/.terraformrc nor reads a developer's own.
func (b TerraformCLI) Env() []string {
	return []string{"TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=/dev/null"}
}

// TerraformBinaries returns terraform and tofu, for tests that run against
// both. With CI=true both are required (Require fails the test); otherwise
// a missing one is left out with a log line, and the test is skipped only
// when both are missing.
func TerraformBinaries(t testing.TB) []TerraformCLI {
	t.Helper()
	SkipShort(t, "terraform and tofu")
	var found []TerraformCLI
	var missing []string
	for _, name := range []string{"terraform", "tofu"} {
		if path, err := lookGoTool(name); err == nil {
			found = append(found, TerraformCLI{Name: name, Path: path})
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		what := fmt.Sprintf("%s not found on PATH or in $(go env GOPATH)/bin", strings.Join(missing, " and "))
		if len(found) == 0 || ciRequired() {
			Require(t, what)
		}
		t.Logf("%s; running with %s only", what, found[0].Name)
	}
	return found
}
