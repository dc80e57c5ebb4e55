package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
)

// mergeC is a third merge, a child of mergeB.
const mergeC = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"

// TestLifecycleRunApply is a PR's whole life with `prstate run -- <bin>
// apply` as the apply job, for terraform and OpenTofu, each with a
// DynamoDB table and with use_lockfile (one after the other, sharing
// moto): a PR plan seeded from production shows "No changes"; three merge
// jobs run `prstate run -- <bin> apply` at once and never overlap (each
// apply takes the state lock with -lock-timeout=0s, so an overlap fails
// it); the newest commit's resources end in production, an older one is
// applied or skipped as superseded; cleanup removes the PR state; the PR
// reopened is seeded again and plans "No changes".
func TestLifecycleRunApply(t *testing.T) {
	t.Parallel()
	for _, cli := range testenv.TerraformBinaries(t) {
		for _, mode := range []lockMode{lockDynamoDB, lockS3} {
			t.Run(cli.Name+"/"+string(mode), func(t *testing.T) { runLifecycle(t, cli, mode) })
		}
	}
}

func runLifecycle(t *testing.T, cli testenv.TerraformCLI, mode lockMode) {
	s := newStackFor(t, cli, mode, true, "app")
	proxy := testenv.NewFaultProxy(t, s.moto.Endpoint, testenv.Faults{Serialize: true})
	gh := newRunnerAPI(t)
	gh.AddCommit(mergeC, mergeB)
	gh.SetBranch("main", mergeC)
	s.applyProduction(true)

	// The PR changes nothing yet: seeded, its plan has no changes.
	const pr, prKey = 50, "app/pr-50/terraform.tfstate"
	planInputs := map[string]string{"working-directory": "infra", "seed": "production"}
	pr50 := s.checkout(proxy.URL, "app")
	pr50.planNoChanges(gh.URL, prPayload(t, "opened", pr, false, ""), planInputs, prKey)

	// Three merges, their jobs started at once: A, B (child of A), C (child of B).
	commits := []struct{ sha, before string }{{mergeA, commitBase}, {mergeB, mergeA}, {mergeC, mergeB}}
	resources := [][]string{{"app", "a"}, {"app", "a", "b"}, {"app", "a", "b", "c"}}
	procs := make([]*actionProc, len(commits))
	for i, c := range commits {
		co := s.checkout(proxy.URL, resources[i]...)
		co.mustTerraform(filepath.Join(co.dir, ".terraform"), nil, "init")
		j := job{runID: itoa(9201 + i), sha: c.sha, before: c.before, api: gh.URL,
			args: []string{"run", "--lock-timeout", "2m", "--", co.tf, "apply", "-auto-approve", "-no-color", "-lock-timeout=0s"}}
		procs[i] = co.startAction(j, pushPayload(t, c.before, c.sha), nil, nil)
	}
	applied := map[string]bool{}
	for i, p := range procs {
		r := p.wait()
		r.mustSucceed(t)
		switch {
		case r.outputs["superseded"] == "true":
			t.Logf("%s: superseded, skipped", ci.ShortSHA(commits[i].sha))
		case strings.Contains(r.stdout+r.stderr, "Apply complete!"):
			applied[commits[i].sha] = true
			t.Logf("%s: applied", ci.ShortSHA(commits[i].sha))
		default:
			t.Errorf("%s: neither applied nor superseded: outputs %v\nstdout: %s\nstderr: %s", ci.ShortSHA(commits[i].sha), r.outputs, r.stdout, r.stderr)
		}
	}
	if !applied[mergeC] {
		t.Errorf("the newest commit %s was not applied (applied: %v)", ci.ShortSHA(mergeC), applied)
	}
	if got, want := s.prodAddresses(), []string{"terraform_data.a", "terraform_data.app", "terraform_data.b", "terraform_data.c"}; !slices.Equal(sorted(got), want) {
		t.Errorf("production tracks %v, want %v", got, want)
	}
	lockBackend := map[lockMode]string{lockDynamoDB: "dynamodb", lockS3: "s3"}[mode]
	if s.applyLockHeld(lockBackend) {
		t.Error("the apply lock is left held after the runs")
	}
	if rec, err := applylock.NewLedger(s.bucketStore(), s.ledgerTable(), lockBackend, prodKey).Read(t.Context()); err != nil || rec.Entry.SHA != mergeC {
		t.Errorf("ledger %+v, %v; want %s", rec.Entry, err, mergeC)
	}
	prodAfter := s.snapshot(prodKey)

	// Closed: cleanup removes the untouched seed.
	closed := pr50.action(job{api: gh.URL}, prPayload(t, "closed", pr, false, ""), map[string]string{"working-directory": "infra"}, nil)
	closed.mustSucceed(t)
	if closed.outputs["deleted"] != "1" {
		t.Errorf("cleanup: outputs %v\n%s", closed.outputs, closed.stderr)
	}
	s.checkCleanedUp(prKey, closed, prodAfter)

	// Reopened, rebased on main: seeded again from the new production.
	reopened := s.checkout(proxy.URL, resources[2]...)
	reopened.planNoChanges(gh.URL, prPayload(t, "reopened", pr, false, ""), planInputs, prKey)
}

// planNoChanges runs the action's plan step for ev, then init and plan on
// the PR key in s: seeded from production, the plan has no changes.
func (s *stack) planNoChanges(api string, ev event, inputs map[string]string, prKey string) {
	s.t.Helper()
	st := s.action(job{api: api}, ev, inputs, nil)
	st.mustSucceed(s.t)
	if st.outputs["key"] != prKey || !strings.Contains(st.stderr, "seed: seeded from production") {
		s.t.Fatalf("plan: outputs %v\n%s", st.outputs, st.stderr)
	}
	data := filepath.Join(s.t.TempDir(), "tf-pr")
	s.mustTerraform(data, nil, "init", "-backend-config=prstate.s3.tfbackend")
	if got := backendConfigInDataDir(s.t, data)["key"]; got != prKey {
		s.t.Fatalf("%s init on the PR backend file configured key %v, want %s", s.tool, got, prKey)
	}
	out, err := s.terraform(data, nil, "plan", "-detailed-exitcode", "-lock-timeout=0s")
	if code := exitCode(s.t, err); code != 0 || !strings.Contains(out, "No changes.") {
		s.t.Errorf("%s plan on the seeded PR key: exit %d, want 0 and No changes\n%s", s.tool, code, out)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
