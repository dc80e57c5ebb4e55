package iam_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// TestIamMotoPlanCommand: under the plan role with seed, `prstate plan
// --seed production` seeds the PR state from production; under the plan
// role without seed the same command is refused and writes nothing.
func TestIamMotoPlanCommand(t *testing.T) {
	s := newMotoStack(t)
	bin := testenv.Binary(t)
	s.putAdmin(s.prod, prodState)
	prKey, _ := s.stack.Keys.Render(motoPR)

	noSeed := s.user("plan-no-seed", s.role(iam.JobPlan, false).Policy)
	code, out := s.run(s.env(noSeed, "pull_request", "pull_request_opened.json", "refs/pull/42/merge"), bin, "plan", "--seed", "production")
	// AccessDenied is permanent: exit 2 with one line naming the call.
	if code != 2 || !strings.Contains(out, "access denied: s3:GetObject on s3://") {
		t.Fatalf("plan --seed under the role without seed: exit %d, want 2 and access denied:\n%s", code, out)
	}
	t.Logf("plan --seed under the role without seed: exit %d", code)
	if got := s.body(prKey); got != "" {
		t.Fatalf("the refused seed wrote %s: %q", prKey, got)
	}

	seed := s.user("plan-seed", s.role(iam.JobPlan, true).Policy)
	out = s.mustRun(s.env(seed, "pull_request", "pull_request_opened.json", "refs/pull/42/merge"), bin, "plan", "--seed", "production", "--json")
	var res struct {
		Key  string `json:"key"`
		Seed struct {
			Seeded bool `json:"seeded"`
		} `json:"seed"`
	}
	if err := json.Unmarshal([]byte(lastJSON(out)), &res); err != nil || res.Key != prKey || !res.Seed.Seeded {
		t.Fatalf("plan: %+v %v:\n%s", res, err, out)
	}
	if got := s.body(prKey); got != prodState {
		t.Fatalf("PR state %q, want production's", got)
	}
	// Again: the PR state is now an up-to-date seed (read, no write).
	s.mustRun(s.env(seed, "pull_request", "pull_request_opened.json", "refs/pull/42/merge"), bin, "plan", "--seed", "production")
	if got := s.body(s.prod); got != prodState {
		t.Fatalf("production changed: %q", got)
	}
}

// TestIamMotoApplyLockUnlock: under the apply role `prstate lock` takes
// the S3 apply lock and records the commit in the ledger, and `prstate
// unlock` releases it; under the plan role `prstate lock` is refused.
func TestIamMotoApplyLockUnlock(t *testing.T) {
	s := newMotoStack(t)
	bin := testenv.Binary(t)
	s.putAdmin(s.prod, prodState)
	applyLock, ledger := statekey.ApplyLockKey(s.prod), statekey.LedgerObjectKey(s.prod)

	pr := s.user("pr-job", s.role(iam.JobPlan, true).Policy)
	code, out := s.run(s.env(pr, "push", "push.json", "refs/heads/main"), bin, "lock", "--lock-timeout", "2s")
	// AccessDenied is permanent: exit 2 at once, and nothing is written.
	if code != 2 || !strings.Contains(out, "access denied: s3:PutObject on s3://") {
		t.Fatalf("lock under the plan role: exit %d, want 2 and access denied:\n%s", code, out)
	}
	t.Logf("lock under the plan role: exit %d", code)
	if s.body(applyLock) != "" || s.body(ledger) != "" {
		t.Fatal("the refused lock wrote the apply lock or the ledger")
	}

	apply := s.user("apply-job", s.role(iam.JobApply, false).Policy)
	env := s.env(apply, "push", "push.json", "refs/heads/main")
	id := strings.TrimSpace(lastLine(s.mustRun(env, bin, "lock", "--lock-timeout", "10s")))
	if id == "" || !strings.Contains(s.body(applyLock), id) {
		t.Fatalf("lock ID %q; apply lock %q", id, s.body(applyLock))
	}
	if !strings.Contains(s.body(ledger), motoSHA) {
		t.Fatalf("ledger %q does not record %s", s.body(ledger), motoSHA)
	}
	out = s.mustRun(env, bin, "unlock", "--lock-id", id)
	if !strings.Contains(out, "released "+id) {
		t.Fatalf("unlock: %s", out)
	}
	if got := s.body(applyLock); strings.Contains(got, id) {
		t.Fatalf("the apply lock is still held: %q", got)
	}
}

// motoDeleteObjectsQuirk is what moto (5.x) wants besides the object
// ARNs for DeleteObjects: s3:DeleteObject on the bucket's ARN, and then it
// checks no object. AWS checks each object's ARN; the generated policy
// names objects only.
func motoDeleteObjectsQuirk(bucket string) iam.Statement {
	return iam.Statement{Sid: "MotoDeleteObjectsQuirk", Effect: "Allow", Action: []string{"s3:DeleteObject"}, Resource: []string{"arn:aws:s3:::" + bucket}}
}

// TestIamMotoCleanupCommand: under the cleanup role (plus moto's
// DeleteObjects quirk) `prstate cleanup` removes every version of a PR
// state and its lock file and leaves production alone.
//
// The layout has no "/" in its keys: moto's signature check fails any
// request whose query carries an encoded "/" or ":" (a listing prefix such
// as app/pr-42/terraform.tfstate), and cleanup lists the PR key's versions.
func TestIamMotoCleanupCommand(t *testing.T) {
	const tpl = "pr-{pr}-{file}"
	s := newMotoStackAt(t, "terraform.tfstate", tpl)
	bin := testenv.Binary(t)
	s.putAdmin(s.prod, prodState)
	prKey, _ := s.stack.Keys.Render(motoPR)
	s.putAdmin(prKey, prodState)
	s.putAdmin(prKey, strings.Replace(prodState, `"serial":3`, `"serial":4`, 1))

	role := s.role(iam.JobCleanup, false)
	role.Policy.Statement = append(role.Policy.Statement, motoDeleteObjectsQuirk(s.bucket))
	k := s.user("cleanup-job", role.Policy)
	out := s.mustRun(s.env(k, "pull_request", "pull_request_closed_merged.json", "refs/pull/42/merge"), bin, "cleanup", "--key-template", tpl, "--json")
	var rep struct {
		Deleted int `json:"deleted"`
		Results []struct {
			Versions int `json:"versions_removed"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(lastJSON(out)), &rep); err != nil || rep.Deleted != 1 || len(rep.Results) != 1 || rep.Results[0].Versions != 2 {
		t.Fatalf("cleanup: %+v %v:\n%s", rep, err, out)
	}
	vs, err := s.admin.ListObjectVersions(t.Context(), prKey)
	if err != nil || len(vs) != 0 {
		t.Fatalf("PR state versions left: %v %v", vs, err)
	}
	if got := s.body(s.prod); got != prodState {
		t.Fatalf("production changed: %q", got)
	}
	// What moto cannot judge: with the quirk statement it lets DeleteObjects
	// through for any key. AWS (and the evaluator) judge each object's ARN.
	err = deleteBatch(s.prod)(t.Context(), s.m.S3(k), s)
	evalAllows := allowed(s.role(iam.JobCleanup, false).Policy, request{action: "s3:DeleteObjectVersion", resource: "arn:aws:s3:::" + s.bucket + "/" + s.prod})
	t.Logf("DeleteObjects on production under cleanup + moto quirk: moto %v; evaluator (per-object ARN, as AWS) allows: %v", errOrAllowed(err), evalAllows)
	if evalAllows {
		t.Error("the cleanup policy allows deleting production's versions")
	}
}

func errOrAllowed(err error) string {
	if err == nil {
		return "allowed"
	}
	return err.Error()
}

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// lastJSON is the JSON document at the end of out (stderr lines first).
func lastJSON(out string) string {
	if i := strings.Index(out, "\n{"); i >= 0 {
		return out[i+1:]
	}
	return out
}
