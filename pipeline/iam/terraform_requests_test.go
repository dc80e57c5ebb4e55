package iam_test

import (
	"testing"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// terraformRequests are the requests Terraform 1.11 makes on a state key
// in init, plan and apply, as measured against moto through a logging
// proxy (lock file mode; table mode; a new workspace):
//
//	GET  /B?list-type=2&prefix=env%3A%2F          every command
//	HEAD, GET /B/<key>                            read the state
//	PUT  /B/<key>                                 write it (apply, new workspace)
//	PUT, GET, DELETE /B/<key>.tflock              use_lockfile
//	GetItem <B>/<key>-md5, PutItem <B>/<key>-md5  the digest (table)
//	PutItem, GetItem, DeleteItem <B>/<key>        the lock item (table)
//
// moto cannot judge them under IAM (its signature check fails every
// request whose query holds an encoded "/" or ":", and Terraform always
// lists env:/), so the evaluator does.
func terraformRequests(key string, lockfile, table bool) []request {
	prefix := statekey.DefaultWorkspaceKeyPrefix + "/"
	rs := []request{
		{action: "s3:ListBucket", resource: "arn:aws:s3:::" + evalBucket, prefix: &prefix},
		{action: "s3:GetObject", resource: objectARN(key)},
		{action: "s3:PutObject", resource: objectARN(key)},
	}
	if lockfile {
		for _, a := range []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} {
			rs = append(rs, request{action: a, resource: objectARN(key + statekey.TerraformLockSuffix)})
		}
	}
	if table {
		digest, lock := statekey.DigestID(evalBucket, key), statekey.LockItemID(evalBucket, key)
		for _, r := range [][2]string{{"dynamodb:GetItem", digest}, {"dynamodb:PutItem", digest}, {"dynamodb:PutItem", lock}, {"dynamodb:GetItem", lock}, {"dynamodb:DeleteItem", lock}} {
			rs = append(rs, request{action: r[0], resource: evalTable, leadingKeys: []string{r[1]}})
		}
	}
	return rs
}

// TestIamTerraformRequestsAllowed: the plan role lets Terraform work on
// the PR key and the apply role on production, in every lock mode and
// under both isolations; the plan role lets it touch no production name.
func TestIamTerraformRequestsAllowed(t *testing.T) {
	for _, ws := range []bool{false, true} {
		for _, mode := range []struct{ lockfile, table bool }{{true, false}, {false, true}, {true, true}} {
			var k statekey.Keys
			var err error
			if ws {
				k, err = statekey.NewWorkspaceKeys("app/terraform.tfstate", "")
			} else {
				k, err = statekey.NewKeys("app/terraform.tfstate", "")
			}
			if err != nil {
				t.Fatal(err)
			}
			st := iam.Stack{Bucket: evalBucket, Region: "eu-west-1", Keys: k, UseLockfile: mode.lockfile, LockBackend: "s3"}
			if mode.table {
				st.DynamoDBTable, st.LockBackend = "acme-tflocks", "dynamodb"
			}
			role := func(job iam.Job) iam.Policy {
				r, err := iam.Generate(iam.Input{Job: job, Stacks: []iam.Stack{st}, Repository: "acme/infra", AccountID: "123456789012"})
				if err != nil {
					t.Fatal(err)
				}
				return r.Policy
			}
			pr, _ := k.Render(42)
			plan, apply := role(iam.JobPlan), role(iam.JobApply)
			for _, r := range terraformRequests(pr, mode.lockfile, mode.table) {
				if !allowed(plan, r) {
					t.Errorf("workspace %v %+v: plan role refuses terraform's %s on %s %v", ws, mode, r.action, r.resource, r.leadingKeys)
				}
			}
			for _, r := range terraformRequests(k.Production, mode.lockfile, mode.table) {
				if !allowed(apply, r) {
					t.Errorf("workspace %v %+v: apply role refuses terraform's %s on %s %v", ws, mode, r.action, r.resource, r.leadingKeys)
				}
				if r.action != "s3:ListBucket" && allowed(plan, r) {
					t.Errorf("workspace %v %+v: plan role allows terraform's %s on production %s %v", ws, mode, r.action, r.resource, r.leadingKeys)
				}
			}
		}
	}
}
