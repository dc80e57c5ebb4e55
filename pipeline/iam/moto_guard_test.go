package iam_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// guardProdState is production's state: a managed resource and a secret.
const guardProdState = `{"version":4,"terraform_version":"1.11.0","serial":3,"lineage":"4b6c1c59-6f1e-4a3d-9a7e-2f6d1c0e5b11","outputs":{"db_password":{"value":"PRODUCTION-SECRET-7f3a","type":"string","sensitive":true}},"resources":[{"mode":"managed","type":"terraform_data","name":"db","provider":"provider[\"terraform.io/builtin/terraform\"]","instances":[]}],"check_results":null}` + "\n"

// TestIamMotoCleanupGuardWithoutProduction: the cleanup role cannot read
// production's state (moto: AccessDenied on GetObject, the secret never
// reaches it), yet the applied-to guard still refuses a PR state that was
// applied to and cleanup still removes it once the PR's resource is gone.
// The PR state is seeded by `prstate plan --seed production` under the
// gated seed role, then its seed version is removed (as a lifecycle rule
// expiring noncurrent versions would): the guard decides from the seed
// record alone.
//
// What moto proves here: it judges S3 requests against object and bucket
// ARNs (no conditions: s3:prefix is not checked), so AccessDenied on
// GetObject of production's key is the policy's verdict on that ARN; the
// layout is S3-only because moto judges DynamoDB on resource "*".
func TestIamMotoCleanupGuardWithoutProduction(t *testing.T) {
	const tpl = "pr-{pr}-{file}" // no "/": moto's signature check fails an encoded "/" in a listing prefix
	s := newMotoStackAt(t, "terraform.tfstate", tpl)
	bin := testenv.Binary(t)
	s.putAdmin(s.prod, guardProdState)
	prKey, _ := s.stack.Keys.Render(motoPR)
	record := statekey.SeedRecordKey(prKey)

	cleanupRole := s.role(iam.JobCleanup, false)
	cleanupRole.Policy.Statement = append(cleanupRole.Policy.Statement, motoDeleteObjectsQuirk(s.bucket))
	ck := s.user("cleanup-job", cleanupRole.Policy)
	pk := s.user("plan-job", s.role(iam.JobPlan, false).Policy)
	for name, k := range map[string]testenv.Keys{"cleanup": ck, "plan": pk} {
		err := get(s.prod)(t.Context(), s.m.S3(k), s)
		t.Logf("GetObject %s under the %s role: %s", s.prod, name, errOrAllowed(err))
		if !accessDenied(err) {
			t.Fatalf("the %s role reads production's state: %v", name, err)
		}
	}

	// The gated seed role seeds PR 42 (and writes the seed record).
	seed := s.user("seed-job", s.role(iam.JobPlan, true).Policy)
	env := s.env(seed, "pull_request", "pull_request_opened.json", "refs/pull/42/merge")
	s.mustRun(env, bin, "plan", "--seed", "production", "--key-template", tpl)
	if s.body(prKey) != guardProdState || !strings.Contains(s.body(record), `"terraform_data.db"`) || strings.Contains(s.body(record), "PRODUCTION-SECRET") {
		t.Fatalf("seed: PR state %q, record %q", s.body(prKey), s.body(record))
	}
	// terraform apply on the PR key adds a resource; then the seed version
	// expires.
	applied := strings.Replace(strings.Replace(guardProdState, `"serial":3`, `"serial":4`, 1), `"instances":[]}]`,
		`"instances":[]},{"mode":"managed","type":"terraform_data","name":"pr_only","provider":"provider[\"terraform.io/builtin/terraform\"]","instances":[]}]`, 1)
	s.putAdmin(prKey, applied)
	s.expireNoncurrent(prKey)

	closed := s.env(ck, "pull_request", "pull_request_closed_merged.json", "refs/pull/42/merge")
	code, out := s.run(closed, bin, "cleanup", "--key-template", tpl, "--json")
	t.Logf("cleanup of the applied-to PR state under the cleanup role: exit %d", code)
	if !strings.Contains(out, "terraform_data.pr_only") || strings.Contains(out, "terraform_data.db") || s.body(prKey) != applied || s.body(record) == "" {
		t.Fatalf("cleanup of an applied-to PR state (exit %d) did not refuse it naming terraform_data.pr_only alone:\n%s", code, out)
	}
	if strings.Contains(out, "access denied") {
		t.Fatalf("cleanup needed a permission it lacks:\n%s", out)
	}

	// The PR's resource destroyed (terraform writes the state again):
	// cleanup removes the state and the seed record.
	s.putAdmin(prKey, strings.Replace(guardProdState, `"serial":3`, `"serial":5`, 1))
	out = s.mustRun(closed, bin, "cleanup", "--key-template", tpl, "--json")
	var rep struct {
		Deleted int `json:"deleted"`
	}
	if err := json.Unmarshal([]byte(lastJSON(out)), &rep); err != nil || rep.Deleted != 1 {
		t.Fatalf("cleanup: %+v %v:\n%s", rep, err, out)
	}
	for _, k := range []string{prKey, record} {
		if vs, err := s.admin.ListObjectVersions(t.Context(), k); err != nil || len(vs) != 0 {
			t.Fatalf("%s: versions left %v %v", k, vs, err)
		}
	}
	if s.body(s.prod) != guardProdState {
		t.Fatal("production changed")
	}
}

// expireNoncurrent removes every noncurrent version of key, as a
// lifecycle rule's NoncurrentVersionExpiration does.
func (s *motoStack) expireNoncurrent(key string) {
	s.t.Helper()
	out, err := s.adminC.ListObjectVersions(s.t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key && !aws.ToBool(v.IsLatest) {
			if _, err := s.adminC.DeleteObject(s.t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: v.Key, VersionId: v.VersionId}); err != nil {
				s.t.Fatal(err)
			}
		}
	}
}
