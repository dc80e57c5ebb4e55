package iam_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// assumes is the evaluator's judgement of a trust policy: may a GitHub
// OIDC token with sub (aud sts.amazonaws.com) assume the role? Written
// apart from the generator; conditions it does not know count as met, so a
// "no" it gives holds.
func assumes(trust iam.Policy, sub string) bool {
	const host = "token.actions.githubusercontent.com"
	claims := map[string]string{host + ":sub": sub, host + ":aud": "sts.amazonaws.com"}
	for _, s := range trust.Statement {
		if s.Effect != "Allow" || !anyMatch(s.Action, "sts:AssumeRoleWithWebIdentity") || s.Principal == nil || !strings.HasSuffix(s.Principal.Federated, ":oidc-provider/"+host) {
			continue
		}
		met := true
		for op, kv := range s.Condition {
			for key, vals := range kv {
				v, known := claims[key]
				switch {
				case !known:
				case op == "StringEquals":
					met = met && contains(vals, v)
				case op == "StringLike":
					met = met && anyMatch(vals, v)
				}
			}
		}
		if met {
			return true
		}
	}
	return false
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// GitHub's documented subject formats (the OIDC reference: default
// subjects; "customizing the subject claims" with include_claim_keys; the
// immutable OWNER@ID/REPO@ID form), for acme/infra (owner 1001, repo 2002).
func subjectFormats(repo string) map[string]string {
	wf := "acme/infra/.github/workflows/ci.yml"
	return map[string]string{
		// a pull_request job, whatever its workflow says
		"pull_request":                        repo + ":pull_request",
		"pull_request, customized ref":        repo + ":pull_request:ref:refs/pull/7/merge",
		"pull_request, customized wf ref":     repo + ":pull_request:job_workflow_ref:" + wf + "@refs/pull/7/merge",
		"pull_request naming production":      repo + ":environment:production",
		"pull_request naming production, ref": repo + ":environment:production:ref:refs/pull/7/merge",
		"pull_request naming ops, ref":        repo + ":environment:ops:ref:refs/pull/7/merge",
		"pull_request naming pr-seed":         repo + ":environment:pr-seed",
		"pull_request naming pr-seed, ref":    repo + ":environment:pr-seed:ref:refs/pull/7/merge",
		"pull_request naming pr-seed, wf ref": repo + ":environment:pr-seed:job_workflow_ref:" + wf + "@refs/pull/7/merge",
		"pull_request naming production, wf":  repo + ":environment:production:job_workflow_ref:" + wf + "@refs/pull/7/merge",
		// default-branch jobs
		"push to main":                       repo + ":ref:refs/heads/main",
		"push to main, customized ref":       repo + ":ref:refs/heads/main:ref:refs/heads/main",
		"push to a branch, customized ref":   repo + ":ref:refs/heads/feature:ref:refs/heads/feature",
		"main in production":                 repo + ":environment:production",
		"main in production, customized ref": repo + ":environment:production:ref:refs/heads/main",
		"feature in production, customized":  repo + ":environment:production:ref:refs/heads/feature",
		"main in ops, customized ref":        repo + ":environment:ops:ref:refs/heads/main",
		"main in production, customized wf":  repo + ":environment:production:job_workflow_ref:" + wf + "@refs/heads/main",
		"tag in production, customized ref":  repo + ":environment:production:ref:refs/tags/v1",
		"another repository, customized ref": "repo:acme/other:environment:production:ref:refs/heads/main",
	}
}

// TestIamTrustSubjectFormats: each generated trust policy against GitHub's
// documented subject formats, in the name and the immutable form. A role
// admits exactly the subjects of its own runs in the customized form
// (repo, context, ref); no trust admits a subject that a pull_request job
// gets by naming an environment (default form, or customized with a PR
// ref), except the gated seed role's, whose environment needs a
// reviewer's approval.
func TestIamTrustSubjectFormats(t *testing.T) {
	k, err := statekey.NewKeys("app/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Bucket: evalBucket, Keys: k, UseLockfile: true, LockBackend: "s3"}
	roles := []struct {
		name  string
		in    iam.Input
		admit []string // the formats it admits
	}{
		{"plan", iam.Input{Job: iam.JobPlan}, []string{"pull_request, customized ref"}},
		{"cleanup", iam.Input{Job: iam.JobCleanup}, []string{"pull_request, customized ref"}},
		{"seed (gated)", iam.Input{Job: iam.JobPlan, Seed: true, Environment: "pr-seed"}, []string{"pull_request naming pr-seed, ref"}},
		{"apply", iam.Input{Job: iam.JobApply}, []string{"push to main, customized ref"}},
		{"apply in production", iam.Input{Job: iam.JobApply, Environment: "production"}, []string{"main in production, customized ref"}},
		{"sweep", iam.Input{Job: iam.JobSweep}, []string{"push to main, customized ref"}},
		{"ops", iam.Input{Job: iam.JobOps, Environment: "ops"}, []string{"main in ops, customized ref"}},
	}
	for _, immutable := range []bool{false, true} {
		repo := "repo:acme/infra"
		if immutable {
			repo = "repo:acme@1001/infra@2002"
		}
		for _, r := range roles {
			in := r.in
			in.Stacks, in.Repository, in.DefaultBranch, in.AccountID = []iam.Stack{stack}, "acme/infra", "main", "123456789012"
			if immutable {
				in.OwnerID, in.RepositoryID = "1001", "2002"
			}
			role, err := iam.Generate(in)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			for format, sub := range subjectFormats(repo) {
				want := contains(r.admit, format)
				if got := assumes(role.Trust, sub); got != want {
					t.Errorf("immutable %v, %s role, %s (%s): assumes %v, want %v", immutable, r.name, format, sub, got, want)
				}
			}
			// The other form never matches: the trust names one repository form.
			other := "repo:acme@1001/infra@2002"
			if immutable {
				other = "repo:acme/infra"
			}
			for format, sub := range subjectFormats(other) {
				if assumes(role.Trust, sub) {
					t.Errorf("immutable %v, %s role admits the other form's %s (%s)", immutable, r.name, format, sub)
				}
			}
		}
	}
}

// prSubjects are the subjects a pull_request job presents without anyone's
// approval: every documented form of pull_request and of an environment it
// names (GitHub creates one that does not exist, unprotected), both
// repository forms. The gated seed role's environment is left out of
// prSubjectsFor when the role is that role: it requires reviewers (doctor
// checks it).
func prSubjectsFor(gatedEnv string) []string {
	var out []string
	for _, repo := range []string{"repo:acme/infra", "repo:acme@1001/infra@2002"} {
		for format, sub := range subjectFormats(repo) {
			if strings.HasPrefix(format, "pull_request") && (gatedEnv == "" || !strings.Contains(format, gatedEnv)) {
				out = append(out, sub)
			}
		}
	}
	return out
}

// TestIamNoPRReachableRoleReadsProduction: over every job and option
// (seed, environment, default branch, subject form, lock layout, one or
// two stacks), a role whose trust a pull_request job can satisfy reads no
// production name (state, lock file, apply lock, ledger, waiters record,
// backups; lock, digest, apply lock, ledger and waiters items; no Scan),
// judged by the evaluator. Combinations iam refuses are counted too.
func TestIamNoPRReachableRoleReadsProduction(t *testing.T) {
	layouts := map[string]func(statekey.Keys) iam.Stack{
		"s3": func(k statekey.Keys) iam.Stack {
			return iam.Stack{Bucket: evalBucket, Keys: k, UseLockfile: true, LockBackend: "s3"}
		},
		"dynamodb": func(k statekey.Keys) iam.Stack {
			return iam.Stack{Bucket: evalBucket, Region: "eu-west-1", Keys: k, DynamoDBTable: "acme-tflocks", LockBackend: "dynamodb"}
		},
		"both": func(k statekey.Keys) iam.Stack {
			return iam.Stack{Bucket: evalBucket, Region: "eu-west-1", Keys: k, DynamoDBTable: "acme-tflocks", UseLockfile: true, LockBackend: "s3"}
		},
	}
	app, err := statekey.NewKeys("app/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := statekey.NewWorkspaceKeys("net/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	generated, refused, reachable := 0, 0, 0
	for _, job := range iam.Jobs {
		for _, seed := range []bool{false, true} {
			for _, env := range []string{"", "production", "pr-seed"} {
				for _, branch := range []string{"", "trunk"} {
					for _, immutable := range []bool{false, true} {
						for lname, layout := range layouts {
							for _, two := range []bool{false, true} {
								stacks := []iam.Stack{layout(app)}
								if two {
									stacks = append(stacks, layout(ws))
								}
								in := iam.Input{Job: job, Seed: seed, Environment: env, DefaultBranch: branch, Stacks: stacks, Repository: "acme/infra", AccountID: "123456789012"}
								if immutable {
									in.OwnerID, in.RepositoryID = "1001", "2002"
								}
								name := fmt.Sprintf("%s seed=%v env=%q branch=%q immutable=%v %s two=%v", job, seed, env, branch, immutable, lname, two)
								role, err := iam.Generate(in)
								if err != nil {
									refused++
									continue
								}
								generated++
								gated := ""
								if job == iam.JobPlan && seed {
									gated = env
								}
								admitted := ""
								for _, sub := range prSubjectsFor(gated) {
									if assumes(role.Trust, sub) {
										admitted = sub
										break
									}
								}
								if admitted == "" {
									continue
								}
								reachable++
								for _, st := range stacks {
									denyProductionReads(t, name+" (a PR job assumes it as "+admitted+")", role.Policy, st)
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d roles generated (%d of them a pull_request job can assume, none reads production), %d combinations refused", generated, reachable, refused)
	if reachable == 0 || generated < 100 {
		t.Fatalf("%d generated, %d reachable: the test judged too little", generated, reachable)
	}
}

// denyProductionReads fails when p reads any production name of st.
func denyProductionReads(t *testing.T, what string, p iam.Policy, st iam.Stack) {
	t.Helper()
	prod := st.Keys.Production
	for _, key := range []string{prod, prod + statekey.TerraformLockSuffix, statekey.ApplyLockKey(prod), statekey.LedgerObjectKey(prod),
		statekey.WaitersObjectKey(prod), prod + statekey.BackupInfix + "20261201T090000.000000000Z"} {
		for _, a := range []string{"s3:GetObject", "s3:GetObjectVersion"} {
			if allowed(p, request{action: a, resource: objectARN(key)}) {
				t.Errorf("%s: allows %s on production's %s", what, a, key)
			}
		}
	}
	if st.DynamoDBTable == "" {
		return
	}
	for _, id := range []string{statekey.LockItemID(evalBucket, prod), statekey.DigestID(evalBucket, prod), statekey.ApplyLockItemID(evalBucket, prod),
		statekey.LedgerItemID(evalBucket, prod), statekey.WaitersItemID(evalBucket, prod)} {
		if allowed(p, request{action: "dynamodb:GetItem", resource: evalTable, leadingKeys: []string{id}}) {
			t.Errorf("%s: allows dynamodb:GetItem on production's %s", what, id)
		}
	}
	if allowed(p, request{action: "dynamodb:Scan", resource: evalTable}) {
		t.Errorf("%s: allows dynamodb:Scan", what)
	}
}

// TestIamCleanupListsProductionMetadataOnly: the cleanup role's one look
// at production is a listing of the versions of exactly production's key
// (ETags, no content): a listing of a wider prefix, which would name other
// keys, and any read of the content are refused (the evaluator checks the
// s3:prefix condition, which moto does not).
func TestIamCleanupListsProductionMetadataOnly(t *testing.T) {
	k, err := statekey.NewKeys("app/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	role, err := iam.Generate(iam.Input{Job: iam.JobCleanup, Stacks: []iam.Stack{{Bucket: evalBucket, Keys: k, UseLockfile: true, LockBackend: "s3"}}, Repository: "acme/infra", AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	bucket := "arn:aws:s3:::" + evalBucket
	pr7, _ := k.Render(7)
	for _, c := range []struct {
		prefix string
		want   bool
	}{{"app/terraform.tfstate", true}, {pr7, true}, {"app/", false}, {"app/terraform", false}, {"", false}} {
		p := c.prefix
		if got := allowed(role.Policy, request{action: "s3:ListBucketVersions", resource: bucket, prefix: &p}); got != c.want {
			t.Errorf("ListBucketVersions prefix %q: allowed %v, want %v", p, got, c.want)
		}
	}
	for _, a := range []string{"s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion"} {
		p := "app/terraform.tfstate"
		if allowed(role.Policy, request{action: a, resource: objectARN(p)}) || allowed(role.Policy, request{action: a, resource: bucket, prefix: &p}) {
			t.Errorf("cleanup may %s production's state", a)
		}
	}
	if !allowed(role.Policy, request{action: "s3:GetObject", resource: objectARN(statekey.SeedRecordKey(pr7))}) {
		t.Error("cleanup cannot read a PR's seed record")
	}
}
