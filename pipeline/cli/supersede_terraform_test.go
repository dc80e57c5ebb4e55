package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestSupersedeWithTerraform: merges A < B < C each set a release to their
// letter. Their jobs, each in its own checkout, reach the check in the
// order C, A, B; only C applies with real terraform, and production's state
// ends up with C's release.
func TestSupersedeWithTerraform(t *testing.T) {
	t.Parallel()
	tf := testenv.Terraform(t)
	testenv.Tool(t, "git")
	m := testenv.Moto(t)
	bucketName, tableName := m.NewBucket(t, true), m.NewTable(t)
	store := Store{Bucket: m.Bucket(t, bucketName), Table: m.Table(t, tableName)}
	a := newTestApp(t, store)
	repo := filepath.Join(a.dir, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, repo, "init", "-q", "-b", "main")
	shas := map[string]string{}
	for _, release := range []string{"A", "B", "C"} {
		main := testenv.TerraformBackend(m.Endpoint, fmt.Sprintf("bucket = %q", bucketName), `key = "app/terraform.tfstate"`, fmt.Sprintf("dynamodb_table = %q", tableName)) + fmt.Sprintf(`
resource "terraform_data" "release" { input = %q }

output "release" { value = terraform_data.release.output }
`, release)
		if err := os.WriteFile(filepath.Join(repo, "main.tf"), []byte(main), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.Git(t, repo, "add", "main.tf")
		testenv.Git(t, repo, "commit", "-q", "-m", release)
		shas[release] = testenv.Git(t, repo, "rev-parse", "HEAD")
	}

	var applied []string
	for i, release := range []string{"C", "A", "B"} {
		// Each job checks out its own commit, with history (fetch-depth: 0).
		job := filepath.Join(a.dir, "job-"+release)
		testenv.Git(t, repo, "worktree", "add", "-q", "--detach", job, shas[release])
		a.push(shas[release], fmt.Sprint(200+i))
		inv := a.invoke("--working-directory", job)
		v, err := inv.checkSupersede(context.Background(), assumeHeld{}, store)
		if err != nil {
			t.Fatalf("%s: %v", release, err)
		}
		if v.Superseded {
			continue
		}
		for _, args := range [][]string{{"init", "-input=false", "-no-color"}, {"apply", "-auto-approve", "-input=false", "-no-color"}} {
			cmd := exec.Command(tf, args...)
			cmd.Dir = job
			cmd.Env = append(os.Environ(), append(m.Env(), "TF_IN_AUTOMATION=1", "TF_DATA_DIR="+filepath.Join(job, ".terraform"))...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: terraform %s: %v\n%s", release, args[0], err, out)
			}
		}
		applied = append(applied, release)
	}
	if fmt.Sprint(applied) != "[C]" {
		t.Fatalf("applied %v, want [C]", applied)
	}
	obj, err := store.Bucket.GetObject(context.Background(), "app/terraform.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Serial  int `json:"serial"`
		Outputs map[string]struct {
			Value string `json:"value"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(obj.Body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Outputs["release"].Value != "C" {
		t.Fatalf("production state: release %q (serial %d), want C", st.Outputs["release"].Value, st.Serial)
	}
}
