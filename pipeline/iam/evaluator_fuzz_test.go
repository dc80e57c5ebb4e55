package iam_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

const (
	evalBucket = "acme-tfstate"
	evalTable  = "arn:aws:dynamodb:eu-west-1:123456789012:table/acme-tflocks"
)

func objectARN(key string) string { return "arn:aws:s3:::" + evalBucket + "/" + key }

// evalTemplates are key templates, sensible and not, the fuzz starts from.
var evalTemplates = []string{
	"{dir}/pr-{pr}/{file}", "{key}{pr}", "{key}.pr{pr}", "{key}-pr-{pr}", "{dir}/{pr}/{file}",
	"{dir}/pr{pr}.tfstate", "{dir}/x{pr}y/{file}", "{dir}/{file}.{pr}", "{dir}/pr-{pr}-{file}",
	"{dir}/pr-{pr}/{key}", "{dir}/{file}/pr-{pr}", "{dir}/previews/{pr}/{file}", "{dir}/pr-{pr}.tflock",
}

var evalProductions = []string{
	"app/terraform.tfstate", "terraform.tfstate", "a/b/c.tfstate", "app/pr-1/terraform.tfstate",
	"app/pr-x/terraform.tfstate", "env:/prod/terraform.tfstate", "we*ird/te?rm$.tfstate", "app/pr-",
}

// FuzzIamPRPoliciesDenyProduction: for any key scheme Generate accepts,
// the PR jobs' policies (plan with seed, cleanup) allow no write to any
// production name of either stack (state, .tflock, digest and lock items,
// apply lock, ledger, waiters, backups), no Scan, and the writes PR jobs need.
func FuzzIamPRPoliciesDenyProduction(f *testing.F) {
	for i, tpl := range evalTemplates {
		for j, prod := range evalProductions {
			f.Add(prod, tpl, evalProductions[(i+j+1)%len(evalProductions)], false, uint32(i*7+j+1))
		}
		f.Add("app/terraform.tfstate", tpl, "net/terraform.tfstate", true, uint32(42))
	}
	f.Fuzz(func(t *testing.T, prod, tpl, prod2 string, workspace bool, pr uint32) {
		checkPRPolicies(t, prod, tpl, prod2, workspace, int(pr%100000)+1)
	})
}

// TestIamDefaultTemplateAccepted: the checks above are not vacuous for
// the layouts people use.
func TestIamDefaultTemplateAccepted(t *testing.T) {
	for _, c := range []struct {
		prod, tpl string
		ws        bool
	}{
		{"app/terraform.tfstate", "", false}, {"terraform.tfstate", "", false}, {"app/terraform.tfstate", "", true},
		{"app/terraform.tfstate", "{dir}/pr-{pr}-{file}", false}, {"we*ird/te?rm$.tfstate", "", false},
	} {
		if n := checkPRPolicies(t, c.prod, c.tpl, "other/terraform.tfstate", c.ws, 42); n == 0 {
			t.Errorf("%s %q: refused", c.prod, c.tpl)
		}
	}
	if n := checkPRPolicies(t, "app/terraform.tfstate", "{key}{pr}", "other/terraform.tfstate", false, 42); n != 0 {
		t.Error("{key}{pr}: accepted, yet app/terraform.tfstate* matches production's lock file")
	}
}

// checkPRPolicies checks the PR jobs' roles for two stacks in one bucket
// and table; it returns how many roles it checked (0: Generate refused).
func checkPRPolicies(t *testing.T, prod, tpl, prod2 string, workspace bool, pr int) int {
	t.Helper()
	mk := func(p string) (statekey.Keys, error) {
		if workspace {
			return statekey.NewWorkspaceKeys(p, "")
		}
		return statekey.NewKeys(p, tpl)
	}
	k1, err1 := mk(prod)
	k2, err2 := mk(prod2)
	if err1 != nil || err2 != nil || prod == prod2 {
		return 0
	}
	stacks := []iam.Stack{}
	for _, k := range []statekey.Keys{k1, k2} {
		stacks = append(stacks, iam.Stack{Bucket: evalBucket, Region: "eu-west-1", Keys: k, DynamoDBTable: "acme-tflocks", UseLockfile: true, LockBackend: "dynamodb"})
	}
	checked := 0
	for _, job := range []iam.Job{iam.JobPlan, iam.JobCleanup} {
		in := iam.Input{Job: job, Stacks: stacks, Seed: job == iam.JobPlan, Repository: "acme/infra", AccountID: "123456789012"}
		if in.Seed {
			in.Environment = "pr-seed" // the gated seed role
		}
		role, err := iam.Generate(in)
		var ue *usage.Error
		if errors.As(err, &ue) {
			if !strings.Contains(err.Error(), "no IAM pattern separates") && !strings.Contains(err.Error(), "not valid UTF-8") {
				t.Fatalf("%s: refused for another reason: %v", job, err)
			}
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, k := range []statekey.Keys{k1, k2} {
			denyProductionWrites(t, job, role.Policy, k)
		}
		allowPRWrites(t, job, role.Policy, k1, pr)
	}
	return checked
}

var (
	objectWrites = []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject"}
	itemWrites   = []string{"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}
)

func denyProductionWrites(t *testing.T, job iam.Job, p iam.Policy, k statekey.Keys) {
	t.Helper()
	prod := k.Production
	objects := map[string]string{
		"state": prod, "lock file": prod + statekey.TerraformLockSuffix, "apply lock": statekey.ApplyLockKey(prod),
		"ledger": statekey.LedgerObjectKey(prod), "backup": prod + statekey.BackupInfix + "20261201T090000.000000000Z",
		"waiters record": statekey.WaitersObjectKey(prod),
		"reviewed plan":  statekey.ReviewedPlanKey(prod, "latest"),
	}
	for what, key := range objects {
		for _, a := range objectWrites {
			if allowed(p, request{action: a, resource: objectARN(key)}) {
				t.Errorf("%s policy allows %s on production's %s %s", job, a, what, key)
			}
		}
		if what != "state" && allowed(p, request{action: "s3:GetObject", resource: objectARN(key)}) {
			t.Errorf("%s policy reads production's %s %s", job, what, key)
		}
	}
	pr1, _ := k.Render(1)
	items := map[string]string{
		"lock item": statekey.LockItemID(evalBucket, prod), "digest": statekey.DigestID(evalBucket, prod),
		"apply lock item": statekey.ApplyLockItemID(evalBucket, prod), "ledger item": statekey.LedgerItemID(evalBucket, prod),
		"waiters item": statekey.WaitersItemID(evalBucket, prod),
	}
	for what, id := range items {
		for _, a := range itemWrites {
			for _, keys := range [][]string{{id}, {statekey.LockItemID(evalBucket, pr1), id}} {
				if allowed(p, request{action: a, resource: evalTable, leadingKeys: keys}) {
					t.Errorf("%s policy allows %s on production's %s %v", job, a, what, keys)
				}
			}
		}
		if what != "digest" && allowed(p, request{action: "dynamodb:GetItem", resource: evalTable, leadingKeys: []string{id}}) {
			t.Errorf("%s policy reads production's %s %s", job, what, id)
		}
	}
	for _, a := range []string{"dynamodb:Scan", "dynamodb:Query"} {
		if allowed(p, request{action: a, resource: evalTable}) {
			t.Errorf("%s policy allows %s", job, a)
		}
	}
}

func allowPRWrites(t *testing.T, job iam.Job, p iam.Policy, k statekey.Keys, pr int) {
	t.Helper()
	key, err := k.Render(pr)
	if err != nil {
		t.Fatal(err)
	}
	lock, digest := statekey.LockItemID(evalBucket, key), statekey.DigestID(evalBucket, key)
	want := []request{}
	switch job {
	case iam.JobPlan:
		want = append(want,
			request{action: "s3:PutObject", resource: objectARN(key)},
			request{action: "s3:PutObject", resource: objectARN(key + statekey.TerraformLockSuffix)},
			request{action: "dynamodb:PutItem", resource: evalTable, leadingKeys: []string{lock}},
			request{action: "dynamodb:PutItem", resource: evalTable, leadingKeys: []string{digest}},
			request{action: "s3:GetObject", resource: objectARN(k.Production)},
			request{action: "s3:PutObject", resource: objectARN(statekey.ReviewedPlanKey(key, strings.Repeat("a", 40)))})
	case iam.JobCleanup:
		want = append(want,
			request{action: "s3:DeleteObjectVersion", resource: objectARN(key)},
			request{action: "s3:DeleteObjectVersion", resource: objectARN(statekey.ReviewedPlanKey(key, "latest"))},
			request{action: "s3:ListBucketVersions", resource: "arn:aws:s3:::" + evalBucket, prefix: &key},
			request{action: "dynamodb:BatchWriteItem", resource: evalTable, leadingKeys: []string{lock, digest}})
	}
	for _, r := range want {
		if !allowed(p, r) {
			t.Errorf("%s policy refuses %s on %s %v (PR #%d)", job, r.action, r.resource, r.leadingKeys, pr)
		}
	}
}
