package e2e

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// TestWorkspaceIsolation: with isolation: workspace prstate exports
// TF_WORKSPACE=pr-N; the later steps' plain `terraform init` creates the
// workspace when it does not exist yet (Terraform 1.11 does so for
// TF_WORKSPACE during init), terraform writes and locks
// env:/pr-N/app/terraform.tfstate, and production's state and lock stay
// as they were. With seed: production the workspace starts from
// production's state and the plan shows no changes. Without export-env,
// `terraform workspace select -or-create <workspace output>` after init
// does the same.
func TestWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	for _, mode := range []lockMode{lockDynamoDB, lockS3} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			s := newStack(t, mode, true, "app")
			s.applyProduction(true)
			s.holdProductionLock()
			before := s.snapshot(prodKey)

			for _, tc := range []struct {
				pr          int
				seed        string
				wantPlan    string
				wantVersion int // state versions after init and plan
				wantLocks   int // .tflock versions and delete markers (use_lockfile)
				exportEnv   bool
			}{
				// init creates the workspace (an empty state, under a lock), plan locks again
				{42, "none", "Plan: 1 to add, 0 to change, 0 to destroy.", 1, 4, true},
				// the seed is the workspace; only plan locks
				{43, "production", "No changes.", 1, 2, true},
				// without export-env: init with the file, then
				// `terraform workspace select -or-create <workspace output>`
				{44, "production", "No changes.", 1, 2, false},
			} {
				ws := "pr-" + itoa(tc.pr)
				prKey := "env:/" + ws + "/" + prodKey
				st := s.mustPrstate(prEvent(t, "opened", tc.pr), map[string]string{"working-directory": "infra", "isolation": "workspace", "seed": tc.seed, "export-env": strconv.FormatBool(tc.exportEnv)})
				if st.outputs["key"] != prKey || st.outputs["workspace"] != ws || st.stdout != prKey+"\n" {
					t.Errorf("PR %d: outputs %v stdout %q", tc.pr, st.outputs, st.stdout)
				}
				wantEnv := map[string]string{"TF_CLI_ARGS_init": "-backend-config=prstate.s3.tfbackend", "TF_WORKSPACE": ws}
				if !tc.exportEnv {
					wantEnv = map[string]string{}
				}
				if !reflect.DeepEqual(st.env, wantEnv) {
					t.Errorf("PR %d: GITHUB_ENV %v, want %v", tc.pr, st.env, wantEnv)
				}
				if tc.seed == "production" {
					prod, _ := s.getObject(prodKey)
					h, err := tfstate.Parse(prod.Body)
					if err != nil {
						t.Fatal(err)
					}
					s.checkSeed(st, prKey, prod.Body, h, "seeded from production")
				}
				// Terraform adds the workspace prefix itself: the file names production's key.
				if file := readFile(t, filepath.Join(s.dir, "prstate.s3.tfbackend")); !strings.Contains(file, `key                  = "`+prodKey+`"`) {
					t.Errorf("PR %d: backend config:\n%s", tc.pr, file)
				}
				env := st.exportedEnv()
				data := filepath.Join(t.TempDir(), "tf-"+ws)
				if tc.exportEnv {
					s.mustTerraform(data, env, "init")
				} else {
					s.mustTerraform(data, nil, "init", "-backend-config="+st.outputs["backend-config"])
					s.mustTerraform(data, nil, "workspace", "select", "-or-create", st.outputs["workspace"])
				}
				if _, ok := s.getObject(prKey); !ok {
					t.Fatalf("PR %d: no state at %s after init", tc.pr, prKey)
				}
				if out := s.mustTerraform(data, env, "workspace", "show"); strings.TrimSpace(out) != ws {
					t.Errorf("PR %d: workspace %q, want %s", tc.pr, out, ws)
				}
				out := s.mustTerraform(data, env, "plan", "-lock-timeout=0s")
				if !strings.Contains(out, tc.wantPlan) {
					t.Errorf("PR %d: plan lacks %q:\n%s", tc.pr, tc.wantPlan, out)
				}
				snap := s.snapshot(prKey)
				var states, locks int
				for _, v := range snap.Versions {
					if strings.HasPrefix(v, prKey+".tflock@") {
						locks++
					} else {
						states++
					}
				}
				if states != tc.wantVersion {
					t.Errorf("PR %d: %d state versions, want %d: %v", tc.pr, states, tc.wantVersion, snap.Versions)
				}
				if mode == lockS3 && locks != tc.wantLocks {
					t.Errorf("PR %d: %d .tflock versions, want %d (each lock and its delete marker): %v", tc.pr, locks, tc.wantLocks, snap.Versions)
				}
				if _, ok := snap.Bodies[prKey+".tflock"]; ok {
					t.Errorf("PR %d: the workspace's .tflock is still there", tc.pr)
				}
				if _, ok := snap.Items[statekey.LockItemID(s.bucket, prKey)]; ok {
					t.Errorf("PR %d: the workspace's DynamoDB lock item is still there", tc.pr)
				}
				if mode == lockDynamoDB {
					if _, ok := snap.Items[statekey.DigestID(s.bucket, prKey)]; !ok {
						t.Errorf("PR %d: no digest item for the workspace state", tc.pr)
					}
				}
			}
			if after := s.snapshot(prodKey); !reflect.DeepEqual(before, after) {
				t.Errorf("production changed\nbefore: %s\nafter: %s", before, after)
			}
		})
	}
}

// TestWorkspaceKeyPrefix: with the backend block's workspace_key_prefix
// the seed lands where terraform looks for the workspace's state, so the
// seeded plan shows no changes.
func TestWorkspaceKeyPrefix(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockS3, true)
	s.backendExtra = "    workspace_key_prefix = \"states\"\n"
	s.writeConfig(true, "app")
	s.applyProduction(true)
	const prKey = "states/pr-5/" + prodKey
	st := s.mustPrstate(prEvent(t, "opened", 5), map[string]string{"working-directory": "infra", "isolation": "workspace", "seed": "production", "export-env": "true"})
	if st.outputs["key"] != prKey || st.outputs["workspace"] != "pr-5" {
		t.Fatalf("outputs %v", st.outputs)
	}
	if _, ok := s.getObject(prKey); !ok {
		t.Fatalf("no seed at %s", prKey)
	}
	env := st.exportedEnv()
	data := filepath.Join(t.TempDir(), "tf-pr-5")
	s.mustTerraform(data, env, "init")
	out, err := s.terraform(data, env, "plan", "-detailed-exitcode", "-lock-timeout=0s")
	if code := exitCode(t, err); code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("seeded plan in workspace pr-5: exit %d\n%s", code, out)
	}
	if keys := s.objectKeys(); strings.Contains(strings.Join(keys, " "), "env:/") {
		t.Errorf("state under env:/ although workspace_key_prefix is states: %v", keys)
	}
}
