package testenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
)

func TestGoToolMissing(t *testing.T) {
	checkToolMissing(t, GoTool, "prstate-no-such-tool not found on PATH or in $(go env GOPATH)/bin", "prstate-no-such-tool not found")
}

// TestTofuVersion: the tofu tests find is the one .ci/run pins.
func TestTofuVersion(t *testing.T) {
	cmd := exec.Command(Tofu(t), "version")
	cmd.Env = append(os.Environ(), TerraformCLI{}.Env()...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tofu version: %v\n%s%s", err, out, stderr.String())
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if first != "OpenTofu v1.10.6" {
		t.Fatalf("tofu version printed %q, want OpenTofu v1.10.6", first)
	}
	if stderr.Len() > 0 {
		t.Fatalf("tofu version warned: %s", stderr.String())
	}
}

// TestTerraformBinariesApply: terraform and tofu each init and apply a
// terraform_data resource through TerraformBackend with use_lockfile, on
// moto and on MinIO, without a warning, and leave the state and no lock
// file behind.
func TestTerraformBinariesApply(t *testing.T) {
	bins := TerraformBinaries(t)
	for _, f := range S3Flavors() {
		for _, b := range bins {
			t.Run(f.Name+"/"+b.Name, func(t *testing.T) {
				t.Parallel()
				srv := f.Start(t)
				bucket := srv.NewBucket(t, true)
				const key = "app/terraform.tfstate"
				dir := t.TempDir()
				mainTF := TerraformBackend(srv.S3Endpoint(), fmt.Sprintf("bucket = %q", bucket), fmt.Sprintf("key = %q", key), "use_lockfile = true") + `
resource "terraform_data" "app" {
  input = "v1"
}
`
				if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644); err != nil {
					t.Fatal(err)
				}
				env := append(os.Environ(), srv.Env()...)
				env = append(env, b.Env()...)
				env = append(env, "TF_DATA_DIR="+filepath.Join(dir, ".terraform"))
				for _, args := range [][]string{{"init", "-no-color"}, {"apply", "-auto-approve", "-no-color"}} {
					cmd := exec.Command(b.Path, args...)
					cmd.Dir, cmd.Env = dir, env
					var stderr strings.Builder
					cmd.Stderr = &stderr
					out, err := cmd.Output()
					if err != nil {
						t.Fatalf("%s %s: %v\n%s%s", b.Name, args[0], err, out, stderr.String())
					}
					if strings.Contains(string(out)+stderr.String(), "Warning") {
						t.Fatalf("%s %s warned:\n%s%s", b.Name, args[0], out, stderr.String())
					}
				}

				obj, err := srv.Bucket(t, bucket).GetObject(t.Context(), key)
				if err != nil {
					t.Fatalf("the state: %v", err)
				}
				var state struct {
					Resources []struct{ Type, Name string }
				}
				if err := json.Unmarshal(obj.Body, &state); err != nil {
					t.Fatalf("the state: %v\n%s", err, obj.Body)
				}
				if len(state.Resources) != 1 || state.Resources[0].Type != "terraform_data" || state.Resources[0].Name != "app" {
					t.Fatalf("the state's resources: %+v", state.Resources)
				}
				if _, err := srv.Bucket(t, bucket).GetObject(t.Context(), key+".tflock"); !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("the lock file after apply: %v, want none", err)
				}
				// The lock file was there during the run: a version of it
				// and its delete marker remain in the versioned bucket.
				v, err := srv.S3().ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key + ".tflock")})
				if err != nil {
					t.Fatal(err)
				}
				if len(v.Versions) == 0 {
					t.Fatalf("%s never wrote %s.tflock", b.Name, key)
				}
			})
		}
	}
}
