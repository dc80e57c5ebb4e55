package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The backend-config output and TF_CLI_ARGS_init are used where terraform
// runs, in the working directory: a --backend-config-file given relative
// to the current directory must be reported relative to the working
// directory, or the exported -backend-config names a file that is not there.
func TestPlanBackendConfigFileRelativeToWorkingDirectory(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_opened.json")
	if err := os.Mkdir(filepath.Join(a.dir, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	a.env["PRSTATE_BACKEND_CONFIG_FILE"] = "ci/pr.tfbackend"
	if err := os.Mkdir(filepath.Join(a.dir, "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code := a.run("plan", "--working-directory", "infra", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--export-env"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if !strings.Contains(a.file("ci/pr.tfbackend"), `key                  = "app/pr-42/terraform.tfstate"`) {
		t.Fatalf("no backend config at ci/pr.tfbackend (cwd-relative)")
	}
	for file, want := range map[string]string{"github_output": "\n../ci/pr.tfbackend\n", "github_env": "\n-backend-config=../ci/pr.tfbackend\n"} {
		if got := a.file(file); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", file, want, got)
		}
	}
	// Resolved from the working directory, the reported path is the file.
	if _, err := os.Stat(filepath.Join(a.dir, "infra", "../ci/pr.tfbackend")); err != nil {
		t.Error(err)
	}
}
