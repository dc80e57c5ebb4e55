package doctor

import (
	"slices"
	"testing"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestDoctorProbesCoverIAMRoles: every action the role `prstate iam`
// writes for a job is probed by doctor for that job, or named as not
// probed; doctor probes no action the role lacks (moto judges the
// resources: TestDoctorIAMRoles).
func TestDoctorProbesCoverIAMRoles(t *testing.T) {
	t.Parallel()
	keys, err := statekey.NewKeys("app/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []bool{false, true} {
		for _, lockfile := range []bool{false, true} {
			for _, seed := range []bool{false, true} {
				b := backend.Backend{Bucket: "acme-state", Key: "app/terraform.tfstate", UseLockfile: lockfile}
				tg := Target{Stack: statekey.Stack{Backend: b, Keys: keys}, LockBackend: "s3", Bucket: memstore.NewBucket("acme-state")}
				if table {
					tg.Stack.Backend.DynamoDBTable, tg.Table, tg.LockBackend = "locks", memstore.NewTable("locks"), "dynamodb"
				}
				for _, job := range iam.Jobs {
					in := iam.Input{Job: job, Seed: seed, Repository: "acme/infra", AccountID: "123456789012", Stacks: []iam.Stack{{Bucket: "acme-state", Keys: keys, DynamoDBTable: tg.Stack.Backend.DynamoDBTable, UseLockfile: lockfile, LockBackend: tg.LockBackend}}}
					if job == iam.JobOps {
						in.Environment = "ops"
					}
					if job == iam.JobPlan && seed {
						in.Environment = "pr-seed" // the gated seed role
					}
					role, err := iam.Generate(in)
					if err != nil {
						t.Fatal(err)
					}
					var granted []string
					for _, st := range role.Policy.Statement {
						granted = append(granted, st.Action...)
					}
					var probed []string
					for _, p := range probesFor(job, tg, namesOf(tg, 0), seed) {
						probed = append(probed, p.action)
					}
					for _, a := range granted {
						if !slices.Contains(probed, a) && !slices.Contains(NotProbed[job], a) {
							t.Errorf("table %v lockfile %v seed %v: %s: the role grants %s, which doctor neither probes nor names", table, lockfile, seed, job, a)
						}
					}
					for _, a := range probed {
						if !slices.Contains(granted, a) {
							t.Errorf("table %v lockfile %v seed %v: %s: doctor probes %s, which the role does not grant", table, lockfile, seed, job, a)
						}
					}
				}
			}
		}
	}
}
