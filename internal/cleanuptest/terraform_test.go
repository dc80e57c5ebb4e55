package cleanuptest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// TestTerraformLifecycle plays a PR's life with the real terraform and
// prstate binaries against moto: production applied (state and digest),
// the PR planned on its own key, the PR closed and cleaned up, the PR
// reopened and planned again at once. Once with dynamodb_table, once with
// use_lockfile.
func TestTerraformLifecycle(t *testing.T) {
	m := testenv.Moto(t)
	tf := testenv.Terraform(t)
	bin := testenv.Binary(t)
	for _, lock := range []string{"dynamodb_table", "use_lockfile"} {
		t.Run(lock, func(t *testing.T) {
			t.Parallel()
			bucket, table := m.NewBucket(t, true), m.NewTable(t)
			s := cleanuptest.Store{Bucket: m.Bucket(t, bucket), Table: m.Table(t, table)}
			dir := t.TempDir()
			lockLine := fmt.Sprintf("dynamodb_table = %q", table)
			if lock == "use_lockfile" {
				lockLine = "use_lockfile = true"
			}
			mainTF := testenv.TerraformBackend(m.Endpoint, fmt.Sprintf("bucket = %q", bucket), fmt.Sprintf("key = %q", cleanuptest.Prod), lockLine) + `
resource "terraform_data" "app" {
  input = "v1"
}
`
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644); err != nil {
				t.Fatal(err)
			}
			env := append(os.Environ(), m.Env()...)
			env = append(env, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1", "GITHUB_ACTIONS=", "GITLAB_CI=", "TF_DATA_DIR="+filepath.Join(dir, ".terraform"))
			once := func(name string, args ...string) (string, string, error) {
				cmd := exec.Command(name, args...)
				cmd.Dir, cmd.Env = dir, env
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				return string(out), stderr.String(), err
			}
			run := func(name string, args ...string) string {
				t.Helper()
				start := time.Now()
				out, stderr, err := once(name, args...)
				// terraform's own lock left by its SDK's retried PutItem
				// (testenv.OwnOrphanLock): released, and run once more.
				if id, ok := testenv.OwnOrphanLock(out+stderr, args[0], start); err != nil && name == tf && ok {
					t.Logf("terraform %s met its own lock %s: force-unlock and run once more", args[0], id)
					if fout, ferr, err := once(tf, "force-unlock", "-force", id); err != nil {
						t.Fatalf("terraform force-unlock: %v\n%s%s", err, fout, ferr)
					}
					out, stderr, err = once(name, args...)
				}
				if err != nil {
					t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr)
				}
				return out
			}

			// Production: applied, so it has a state and (with a table) a digest.
			run(tf, "init", "-no-color")
			run(tf, "apply", "-auto-approve", "-no-color")

			// The PR: its own key, seeded from production, planned twice.
			prKey := strings.TrimSpace(run(bin, "plan", "--pr", "7", "--seed", "production"))
			if prKey != "app/pr-7/terraform.tfstate" {
				t.Fatalf("prstate plan printed %q", prKey)
			}
			run(tf, "init", "-reconfigure", "-no-color", "-backend-config=prstate.s3.tfbackend")
			run(tf, "plan", "-no-color", "-lock-timeout=10s")
			run(tf, "plan", "-no-color", "-lock-timeout=10s")
			vs, err := s.Bucket.ListObjectVersions(context.Background(), prKey)
			if err != nil || len(vs) == 0 {
				t.Fatalf("the PR plans left nothing to clean up: %v, %v", vs, err)
			}
			if lock == "use_lockfile" && !hasKey(vs, prKey+".tflock") {
				t.Fatalf("terraform left no lock file versions: %+v", vs)
			}
			before := cleanuptest.Take(t, s)
			if lock == "dynamodb_table" {
				if _, ok := before["ddb:"+statekey.DigestID(bucket, prKey)]; !ok {
					t.Fatalf("no PR digest to clean up: %v", before)
				}
				if _, ok := before["ddb:"+statekey.DigestID(bucket, cleanuptest.Prod)]; !ok {
					t.Fatalf("no production digest: %v", before)
				}
			}

			// The PR closes.
			out := run(bin, "cleanup", "--pr", "7")
			if !strings.Contains(out, "removed "+prKey) {
				t.Fatalf("cleanup printed %q", out)
			}
			after := cleanuptest.Take(t, s)
			if d := cleanuptest.Diff(before.Without(bucket, prKey, prKey+".tflock"), after); len(d) > 0 {
				t.Fatalf("cleanup changed more than the PR key:\n%s", strings.Join(d, "\n"))
			}
			for k := range after {
				if strings.Contains(k, "pr-7") {
					t.Fatalf("left behind: %s", k)
				}
			}
			if _, err := s.Table.GetItem(context.Background(), statekey.DigestID(bucket, prKey)); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("digest left: %v", err)
			}

			// Reopened: planned again without a seed. A digest left behind
			// would make terraform retry for 10 s and fail.
			run(bin, "plan", "--pr", "7")
			run(tf, "init", "-reconfigure", "-no-color", "-backend-config=prstate.s3.tfbackend")
			start := time.Now()
			out = run(tf, "plan", "-no-color", "-lock-timeout=10s")
			if d := time.Since(start); d >= 8*time.Second {
				t.Fatalf("plan after reopening took %s", d)
			}
			if !strings.Contains(out, "1 to add") {
				t.Fatalf("plan on an empty PR state should add the resource:\n%s", out)
			}
		})
	}
}

func hasKey(vs []storage.ObjectVersion, key string) bool {
	for _, v := range vs {
		if v.Key == key {
			return true
		}
	}
	return false
}
