package iam

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// keys builds a key scheme or fails the test.
func keys(t testing.TB, production, template string, workspace bool) statekey.Keys {
	t.Helper()
	var k statekey.Keys
	var err error
	if workspace {
		k, err = statekey.NewWorkspaceKeys(production, template)
	} else {
		k, err = statekey.NewKeys(production, template)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// goldenStacks are the layouts the golden files cover.
func goldenStacks(t testing.TB) map[string][]Stack {
	withTable := func(k statekey.Keys) Stack {
		return Stack{Bucket: "acme-tfstate", Region: "eu-west-1", Keys: k, DynamoDBTable: "acme-tflocks", LockBackend: "dynamodb"}
	}
	return map[string][]Stack{
		"key-dynamodb":       {withTable(keys(t, "app/terraform.tfstate", "", false))},
		"workspace-dynamodb": {withTable(keys(t, "app/terraform.tfstate", "", true))},
		"s3-only":            {{Bucket: "acme-tfstate", Keys: keys(t, "app/terraform.tfstate", "", false), UseLockfile: true, LockBackend: "s3"}},
		"two-stacks":         {withTable(keys(t, "network/terraform.tfstate", "", false)), withTable(keys(t, "app/terraform.tfstate", "", false))},
	}
}

// TestIamGolden: the roles of every job for each layout, as JSON.
func TestIamGolden(t *testing.T) {
	for layout, stacks := range goldenStacks(t) {
		for _, job := range Jobs {
			for _, seed := range []bool{false, true} {
				if seed && job != JobPlan {
					continue
				}
				name := layout + "-" + string(job)
				if seed {
					name += "-seed"
				}
				t.Run(name, func(t *testing.T) {
					in := Input{Job: job, Stacks: stacks, Seed: seed, Repository: "acme/infra", DefaultBranch: "main", AccountID: "123456789012"}
					if job == JobOps {
						in.Environment = "ops"
					}
					if seed {
						in.Environment = "pr-seed" // the gated seed role
					}
					role, err := Generate(in)
					if err != nil {
						t.Fatal(err)
					}
					got, err := json.MarshalIndent(role, "", "  ")
					if err != nil {
						t.Fatal(err)
					}
					golden(t, filepath.Join("testdata", name+".json"), append(got, '\n'))
				})
			}
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pipeline/iam -run Golden -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

// TestIamRefusesOverlappingPatterns: statekey refuses {key}{pr} itself (a
// PR key must differ from production in a whole path segment); across two
// stacks in one bucket, app's PR pattern app/pr-*/terraform.tfstate still
// matches the production key app/pr-x/terraform.tfstate of the other:
// every role that names PR keys is refused; apply, which names none, is
// written.
func TestIamRefusesOverlappingPatterns(t *testing.T) {
	if _, err := statekey.NewKeys("app/terraform.tfstate", "{key}{pr}"); err == nil {
		t.Fatal("statekey accepted {key}{pr}")
	}
	stacks := []Stack{
		{Bucket: "acme-tfstate", Keys: keys(t, "app/terraform.tfstate", "", false), UseLockfile: true, LockBackend: "s3"},
		{Bucket: "acme-tfstate", Keys: keys(t, "app/pr-x/terraform.tfstate", "", false), UseLockfile: true, LockBackend: "s3"},
	}
	for _, job := range Jobs {
		_, err := Generate(Input{Job: job, Stacks: stacks, Repository: "acme/infra", AccountID: "123456789012", Environment: map[bool]string{true: "ops"}[job == JobOps]})
		var ue *usage.Error
		switch {
		case job == JobApply && err != nil:
			t.Errorf("apply: %v", err)
		case job != JobApply && !errors.As(err, &ue):
			t.Errorf("%s: %v, want a usage error", job, err)
		}
	}
}
