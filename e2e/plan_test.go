package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
)

// TestPlanOnPRKey is the PR job of examples/github/plan-on-pr.yml with the
// real terraform: production was applied and is locked by a running apply;
// prstate plan (configured by the backend block and action inputs) gives
// the PR key and a backend-config file; terraform init and plan on the PR
// key succeed without waiting, and production's state, lock and digest are
// byte-for-byte what they were.
func TestPlanOnPRKey(t *testing.T) {
	t.Parallel()
	for _, mode := range []lockMode{lockDynamoDB, lockS3} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			// A partial backend block: the bucket (and table) come from
			// action inputs, as in teams with one bucket per account.
			s := newStack(t, mode, false, "app")
			s.applyProduction(false)
			if _, ok := s.getObject(prodKey); !ok {
				t.Fatal("production apply wrote no state")
			}
			if mode == lockDynamoDB {
				if _, ok := s.getItem(statekey.DigestID(s.bucket, prodKey)); !ok {
					t.Fatal("production apply wrote no digest item")
				}
			}
			s.holdProductionLock()
			before := s.snapshot(prodKey)

			// The hold is real: terraform on production cannot lock it.
			prodData := filepath.Join(t.TempDir(), "tf-prod")
			s.initProduction(prodData, false)
			if out, err := s.terraform(prodData, nil, "plan", "-lock-timeout=0s"); err == nil || !strings.Contains(out, "Error acquiring the state lock") {
				t.Fatalf("production plan while its lock is held: err %v\n%s", err, out)
			}

			inputs := map[string]string{"command": "plan", "working-directory": "infra", "bucket": s.bucket, "export-env": "false"}
			if mode == lockDynamoDB {
				inputs["dynamodb-table"] = s.table
			}
			st := s.mustPrstate(prEvent(t, "opened", 42), inputs)
			const prKey = "app/pr-42/terraform.tfstate"
			if st.stdout != prKey+"\n" {
				t.Errorf("stdout %q, want the PR key", st.stdout)
			}
			want := map[string]string{"key": prKey, "workspace": "", "pr-number": "42", "is-pull-request": "true", "backend-config": "prstate.s3.tfbackend"}
			if !reflect.DeepEqual(st.outputs, want) {
				t.Errorf("outputs %v, want %v", st.outputs, want)
			}
			if len(st.env) != 0 {
				t.Errorf("export-env false exported %v", st.env)
			}
			if !strings.Contains(st.summary, "`"+prKey+"`") {
				t.Errorf("step summary lacks the PR key:\n%s", st.summary)
			}
			file := readFile(t, filepath.Join(s.dir, st.outputs["backend-config"]))
			lockLine := `dynamodb_table       = "` + s.table + `"`
			if mode == lockS3 {
				lockLine = "use_lockfile         = true"
			}
			for _, line := range []string{`bucket               = "` + s.bucket + `"`, `key                  = "` + prKey + `"`, `region               = "us-east-1"`, lockLine} {
				if !strings.Contains(file, line+"\n") {
					t.Errorf("backend config lacks %q:\n%s", line, file)
				}
			}

			// The PR job's terraform, with the output as given.
			data := filepath.Join(t.TempDir(), "tf-pr")
			s.mustTerraform(data, nil, "init", "-reconfigure", "-backend-config="+st.outputs["backend-config"])
			if got := backendConfigInDataDir(t, data)["key"]; got != prKey {
				t.Errorf("terraform init configured key %v, want %s", got, prKey)
			}
			// terraform locks the PR key with the file's lock setting: a
			// held PR lock stops it, production's held lock does not.
			li := s.holdLock(prKey)
			if out, err := s.terraform(data, nil, "plan", "-lock-timeout=0s"); err == nil || !strings.Contains(out, "Error acquiring the state lock") || !strings.Contains(out, li.ID) {
				t.Fatalf("PR plan while the PR key is locked: err %v\n%s", err, out)
			}
			s.releaseLock(prKey)
			out := s.mustTerraform(data, nil, "plan", "-lock-timeout=0s")
			if !strings.Contains(out, "Plan: 1 to add, 0 to change, 0 to destroy.") {
				t.Errorf("unseeded PR plan does not start from an empty state:\n%s", out)
			}

			if after := s.snapshot(prodKey); !reflect.DeepEqual(before, after) {
				t.Errorf("production changed\nbefore: %s\nafter: %s", before, after)
			}
			if _, ok := s.getObject(prKey + ".tflock"); ok {
				t.Error("the PR key's .tflock is still there")
			}
			if mode == lockDynamoDB {
				if _, ok := s.getItem(statekey.LockItemID(s.bucket, prKey)); ok {
					t.Error("the PR key's DynamoDB lock item is still there")
				}
			}
			if mode == lockS3 {
				// terraform did lock the PR key (and released it): a version
				// and a delete marker of its .tflock, after the test's own pair.
				if got := s.snapshot(prKey).Versions; len(got) != 4 || !strings.Contains(strings.Join(got, "\n"), prKey+".tflock@") {
					t.Errorf("PR key versions %v, want two .tflock versions and their delete markers", got)
				}
			}
			// Nothing else was written: production's objects and the PR's lock file only.
			for _, k := range s.objectKeys() {
				if k != prodKey && k != prodKey+".tflock" && k != prKey+".tflock" {
					t.Errorf("unexpected object %s", k)
				}
			}
			if _, err := os.Stat(filepath.Join(s.root, "prstate.s3.tfbackend")); err == nil {
				t.Error("backend config written in the workspace root, not the working directory")
			}
		})
	}
}
