package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// Commits of the lifecycle: production was applied at base; merging PR 42
// made mergeA, merging another PR right after made mergeB (a child of A).
const (
	commitBase = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
	mergeA     = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	mergeB     = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
)

// TestRunnerContractLifecycle is the runner contract end to end: the
// binary driven as the Actions runner drives the Docker action (INPUT_*
// with hyphens, payload files, file commands, the post step seeing STATE_*
// from the main step's GITHUB_STATE) through a whole PR lifecycle with the
// real terraform against moto: production applied; PR 42 planned on its
// own key (opened, synchronize) with the default command auto; two merges
// whose apply jobs contend for the apply lock; the merged PR and an
// unmerged one cleaned up; a post step after a plan that does nothing.
//
// It runs with terraform and with OpenTofu, each with a DynamoDB table and
// with use_lockfile: one after the other (they share moto), so the whole
// matrix costs about four lifecycles of wall time, not a CPU spike.
func TestRunnerContractLifecycle(t *testing.T) {
	t.Parallel()
	for _, cli := range testenv.TerraformBinaries(t) {
		for _, tc := range []struct {
			mode lockMode
			// first is the merge whose job starts first (a head start, so
			// both orders are covered; the assertions follow the real order).
			first string
		}{{lockDynamoDB, mergeA}, {lockS3, mergeB}} {
			t.Run(cli.Name+"/"+string(tc.mode), func(t *testing.T) {
				lifecycle(t, cli, tc.mode, tc.first)
			})
		}
	}
}

func lifecycle(t *testing.T, cli testenv.TerraformCLI, mode lockMode, first string) {
	s := newStackFor(t, cli, mode, true, "app")
	// The jobs reach moto through a proxy forwarding one request at a
	// time: moto checks a conditional write's condition and writes without
	// a lock, so two racing creates of the apply lock could both win there
	// (never on S3 or DynamoDB).
	proxy := testenv.NewFaultProxy(t, s.moto.Endpoint, testenv.Faults{Serialize: true})
	via := proxy.URL
	gh := newRunnerAPI(t)
	lockBackend := "s3"
	if mode == lockDynamoDB {
		lockBackend = "dynamodb"
	}
	ctx := t.Context()

	// 1. Production applied once.
	s.applyProduction(true)
	serial0 := s.prodSerial()

	// 2. PR 42 (adds terraform_data.a) opened, then synchronized.
	pr42 := s.checkout(via, "app", "a")
	const prKey = "app/pr-42/terraform.tfstate"
	prodBefore := s.snapshot(prodKey)
	planInputs := map[string]string{"working-directory": "infra", "seed": "production", "export-env": "true"}
	opened := pr42.action(job{api: gh.URL}, prPayload(t, "opened", 42, false, ""), planInputs, nil)
	opened.mustSucceed(t)
	if !strings.Contains(opened.stderr, "command auto: pull_request event -> plan") {
		t.Errorf("auto did not pick plan:\n%s", opened.stderr)
	}
	wantOut := map[string]string{"key": prKey, "workspace": "", "pr-number": "42", "is-pull-request": "true", "backend-config": "prstate.s3.tfbackend"}
	if !reflect.DeepEqual(opened.outputs, wantOut) {
		t.Errorf("plan outputs %v, want %v", opened.outputs, wantOut)
	}
	wantEnv := map[string]string{"TF_CLI_ARGS_init": "-backend-config=prstate.s3.tfbackend"}
	if !reflect.DeepEqual(opened.env, wantEnv) {
		t.Errorf("plan GITHUB_ENV %v, want %v", opened.env, wantEnv)
	}
	for _, fact := range []string{"`" + prKey + "`", "from `" + prodKey + "` serial " + itoa(int(serial0))} {
		if !strings.Contains(opened.summary, fact) {
			t.Errorf("plan step summary lacks %q:\n%s", fact, opened.summary)
		}
	}
	// The post step learns it is one, and what the PR's init must configure.
	if len(opened.state) != 2 || opened.state["prstate_post"] != "true" || !strings.Contains(opened.state["prstate_pr_init"], `"key":"`+prKey+`"`) {
		t.Errorf("plan GITHUB_STATE %v, want prstate_post and prstate_pr_init for %s", opened.state, prKey)
	}
	seeded, ok := s.getObject(prKey)
	if !ok {
		t.Fatal("no seeded PR state")
	}

	// The later steps of the job get GITHUB_ENV: a plain init picks the PR key.
	tfEnv := opened.exportedEnv()
	prData := filepath.Join(t.TempDir(), "tf-pr42")
	pr42.mustTerraform(prData, tfEnv, "init")
	if got := backendConfigInDataDir(t, prData)["key"]; got != prKey {
		t.Fatalf("terraform init with TF_CLI_ARGS_init configured key %v, want %s", got, prKey)
	}
	out, err := pr42.terraform(prData, tfEnv, "plan", "-detailed-exitcode", "-lock-timeout=0s")
	if code := exitCode(t, err); code != 2 || !strings.Contains(out, "Plan: 1 to add, 0 to change, 0 to destroy.") || !strings.Contains(out, "terraform_data.a will be created") {
		t.Errorf("PR plan is not the PR's diff against production: exit %d\n%s", code, out)
	}

	// 5a. The post step of a plan main step: nothing to release, the init
	// check finds no record in infra/.terraform (this job's terraform kept
	// its data elsewhere), exit 0, nothing written.
	keysBefore := s.objectKeys()
	post := pr42.action(job{api: gh.URL}, prPayload(t, "opened", 42, false, ""), planInputs, opened.state)
	post.mustSucceed(t)
	if !strings.Contains(post.stderr, "post step: no lock to release") || post.stdout != "" || len(post.outputs) != 0 || len(post.env) != 0 || post.summary != "" || len(post.state) != 0 {
		t.Errorf("post step of plan did something: stdout %q outputs %v env %v state %v summary %q\nstderr: %s", post.stdout, post.outputs, post.env, post.state, post.summary, post.stderr)
	}
	if got := s.objectKeys(); !reflect.DeepEqual(got, keysBefore) {
		t.Errorf("post step of plan changed the bucket: %v -> %v", keysBefore, got)
	}

	sync := pr42.action(job{api: gh.URL}, prPayload(t, "synchronize", 42, false, ""), planInputs, nil)
	sync.mustSucceed(t)
	if !reflect.DeepEqual(sync.outputs, wantOut) || !strings.Contains(sync.stderr, "seed: the PR state is an up-to-date seed") {
		t.Errorf("synchronize: outputs %v\n%s", sync.outputs, sync.stderr)
	}
	if again, _ := s.getObject(prKey); again.VersionID != seeded.VersionID {
		t.Errorf("synchronize rewrote an up-to-date seed: %s -> %s", seeded.VersionID, again.VersionID)
	}
	if after := s.snapshot(prodKey); !reflect.DeepEqual(prodBefore, after) {
		t.Errorf("the PR plan changed production\nbefore: %s\nafter: %s", prodBefore, after)
	}

	// PR 43 plans too; it will be closed unmerged.
	pr43 := s.checkout(via, "app", "c")
	const pr43Key = "app/pr-43/terraform.tfstate"
	st43 := pr43.action(job{api: gh.URL}, prPayload(t, "opened", 43, false, ""), planInputs, nil)
	st43.mustSucceed(t)
	if st43.outputs["key"] != pr43Key {
		t.Errorf("PR 43 key %q", st43.outputs["key"])
	}

	// 3. Two merges, their apply jobs contending for the apply lock.
	jobs := map[string]*applyJob{
		mergeA: {job: job{runID: "9101", sha: mergeA, before: commitBase, api: gh.URL}, checkout: s.checkout(via, "app", "a")},
		mergeB: {job: job{runID: "9102", sha: mergeB, before: mergeA, api: gh.URL}, checkout: s.checkout(via, "app", "a", "b")},
	}
	second := mergeB
	if first == mergeB {
		second = mergeA
	}
	lockInputs := map[string]string{"working-directory": "infra", "lock-timeout": "2m"}
	// Both main steps run at once; the head start (shorter than a main
	// step) makes the intended order likely, not certain.
	jobs[first].start(t, lockInputs)
	time.Sleep(25 * time.Millisecond)
	jobs[second].start(t, lockInputs)
	// Whoever took the lock first finishes its main step; the other waits.
	var winner, loser *applyJob
	select {
	case <-jobs[first].main.done:
		winner, loser = jobs[first], jobs[second]
	case <-jobs[second].main.done:
		winner, loser = jobs[second], jobs[first]
	case <-time.After(90 * time.Second):
		t.Fatal("neither apply job took the lock")
	}
	if winner.sha != first {
		t.Logf("the job of %s took the lock first despite the head start", ci.ShortSHA(winner.sha))
	}
	winner.finishMain(t)
	t.Logf("main steps overlapped: %v (the second started %s after the first, which took %s)", loser.main.started.Before(winner.main.ended),
		loser.main.started.Sub(winner.main.started).Round(time.Millisecond), winner.main.ended.Sub(winner.main.started).Round(time.Millisecond))
	if winner.res.outputs["superseded"] != "false" || winner.res.outputs["lock-id"] == "" || winner.res.stdout != winner.res.outputs["lock-id"]+"\n" {
		t.Fatalf("first job: outputs %v stdout %q\n%s", winner.res.outputs, winner.res.stdout, winner.res.stderr)
	}
	lockID := winner.res.outputs["lock-id"]
	if winner.res.state["lock_id"] != lockID || winner.res.state["prstate_post"] != "true" {
		t.Errorf("first job saved state %v, want lock_id %s", winner.res.state, lockID)
	}
	for _, fact := range []string{"`" + prodKey + "`", lockID, "post step releases it"} {
		if !strings.Contains(winner.res.summary, fact) {
			t.Errorf("first job's step summary lacks %q:\n%s", fact, winner.res.summary)
		}
	}
	s.checkApplyLock(lockBackend, lockID)
	winner.apply(t)
	select {
	case <-loser.main.done:
		// Only an older commit may: once the newer one's apply started (the
		// ledger names it), it skips without the lock (coalescing).
		if loser.sha != mergeA {
			t.Fatal("the second job's main step finished while the first job held the apply lock")
		}
	default:
	}
	winner.postStep(t)
	released := time.Now()
	loser.finishMain(t)
	t.Logf("the job of %s waited %s in its main step; it went on %s after the post step of %s released the lock",
		ci.ShortSHA(loser.sha), loser.main.ended.Sub(loser.main.started).Round(time.Millisecond),
		loser.main.ended.Sub(released).Round(time.Millisecond), ci.ShortSHA(winner.sha))
	if !strings.Contains(loser.res.stderr, "waiting for the apply lock") || !strings.Contains(loser.res.stderr, "actions/runs/"+winner.runID) {
		t.Errorf("the waiting job did not say whom it waited for:\n%s", loser.res.stderr)
	}
	applies := 1
	if loser.sha == mergeA {
		// The older commit reached the lock last: superseded, no apply.
		if loser.res.outputs["superseded"] != "true" || loser.res.outputs["lock-id"] != "" || loser.res.state["lock_id"] != "" {
			t.Errorf("older job after the newer one: outputs %v state %v, want superseded and no lock", loser.res.outputs, loser.res.state)
		}
		for _, fact := range []string{"superseded by", ci.ShortSHA(mergeB), "actions/runs/" + winner.runID, "output `superseded=true`"} {
			if !strings.Contains(loser.res.summary, fact) {
				t.Errorf("superseded job's step summary lacks %q:\n%s", fact, loser.res.summary)
			}
		}
		if s.applyLockHeld(lockBackend) {
			t.Error("a superseded job left the apply lock held")
		}
	} else {
		id2 := loser.res.outputs["lock-id"]
		if loser.res.outputs["superseded"] != "false" || id2 == "" || id2 == lockID {
			t.Fatalf("newer job after the older one: outputs %v", loser.res.outputs)
		}
		for _, fact := range []string{id2, "actions/runs/" + winner.runID} {
			if !strings.Contains(loser.res.summary, fact) {
				t.Errorf("second job's step summary lacks %q (its lock and whom it waited behind):\n%s", fact, loser.res.summary)
			}
		}
		s.checkApplyLock(lockBackend, id2)
		loser.apply(t)
		applies++
	}
	loser.postStep(t)
	if s.applyLockHeld(lockBackend) {
		t.Error("an apply lock is left after both post steps")
	}
	if got := s.prodSerial(); got != serial0+int64(applies) {
		t.Errorf("production serial %d -> %d after %d applies", serial0, got, applies)
	}
	if got := s.prodAddresses(); !slices.Contains(got, "terraform_data.a") || !slices.Contains(got, "terraform_data.b") {
		t.Errorf("production state tracks %v after the merges, want terraform_data.a and .b", got)
	}
	ledger := applylock.NewLedger(s.bucketStore(), s.ledgerTable(), lockBackend, prodKey)
	rec, err := ledger.Read(ctx)
	if err != nil || rec.Entry.SHA != mergeB || rec.Entry.RunID != "9102" {
		t.Errorf("ledger %+v, %v; want commit %s of run 9102", rec.Entry, err, mergeB)
	}
	// The second job compares its commit with the ledger's; when it is the
	// older one, it also checks the ledger's commit is on main before it
	// skips.
	if n, want := gh.Requests(githubfake.RouteCompare), map[bool]int64{true: 2, false: 1}[loser.sha == mergeA]; int64(n) != want {
		t.Errorf("%d compare API calls, want %d (the second job)", n, want)
	}
	if proxy.Counts().Requests == 0 {
		t.Error("the jobs did not go through the serializing proxy")
	}
	if gh.Requests(githubfake.RouteRun) == 0 {
		t.Error("the waiting job never asked whether the holder's run was alive")
	}
	prodAfterApplies := s.snapshot(prodKey)

	// 4. PR 42 closed, merged: cleanup.
	closed := pr42.action(job{api: gh.URL, sha: mergeA}, prPayload(t, "closed", 42, true, mergeA), planInputs, nil)
	closed.mustSucceed(t)
	if !strings.Contains(closed.stderr, "pull_request event -> cleanup") || closed.outputs["deleted"] != "1" {
		t.Errorf("cleanup of PR 42: outputs %v\n%s", closed.outputs, closed.stderr)
	}
	s.checkCleanedUp(prKey, closed, prodAfterApplies)
	if rec2, err := ledger.Read(ctx); err != nil || rec2.Entry != rec.Entry {
		t.Errorf("cleanup changed the ledger: %+v -> %+v, %v", rec.Entry, rec2.Entry, err)
	}

	// 5c. A main step that fails on bad input (auto on a push to another
	// branch): its post step does nothing either.
	feature := editPayload(t, pushPayload(t, mergeA, mergeB), func(p map[string]any) { p["ref"] = "refs/heads/feature" })
	feature.ref = "refs/heads/feature"
	bad := pr43.action(job{api: gh.URL, sha: mergeB}, feature, nil, nil)
	if bad.code != 2 || !strings.Contains(bad.stderr, "command auto has nothing to do") {
		t.Errorf("auto on a push to a feature branch: exit %d\n%s", bad.code, bad.stderr)
	}
	keysBefore = s.objectKeys()
	badPost := pr43.action(job{api: gh.URL, sha: mergeB}, feature, nil, bad.state)
	if badPost.code != 0 || !strings.Contains(badPost.stderr, "post step: no lock to release") || badPost.stdout != "" {
		t.Errorf("post step after a main step that failed on bad input: exit %d, state given %v\n%s", badPost.code, bad.state, badPost.stderr)
	}
	if got := s.objectKeys(); !reflect.DeepEqual(got, keysBefore) {
		t.Errorf("post step after bad input changed the bucket: %v -> %v", keysBefore, got)
	}

	// 5b. PR 43 closed without merging: cleanup as well.
	closed43 := pr43.action(job{api: gh.URL}, prPayload(t, "closed", 43, false, ""), map[string]string{"working-directory": "infra"}, nil)
	closed43.mustSucceed(t)
	if closed43.outputs["deleted"] != "1" {
		t.Errorf("cleanup of PR 43: outputs %v\n%s", closed43.outputs, closed43.stderr)
	}
	s.checkCleanedUp(pr43Key, closed43, prodAfterApplies)
	// Production's siblings stay: the apply lock (released), the ledger,
	// and the waiters record when a job waited (the newer commit waits
	// behind the older one); both jobs left it.
	s.checkNoWaiters(lockBackend)
	for _, k := range s.objectKeys() {
		if k != prodKey && k != prodKey+".tflock" && k != statekey.ApplyLockKey(prodKey) && k != statekey.LedgerObjectKey(prodKey) && k != statekey.WaitersObjectKey(prodKey) {
			t.Errorf("left in the bucket: %s", k)
		}
	}
	for _, id := range s.itemIDs() {
		if !strings.HasPrefix(id, s.bucket+"/"+prodKey) {
			t.Errorf("left in the table: %s", id)
		}
	}
}

// checkCleanedUp: nothing of prKey is left (versions, delete markers,
// digest, lock items), the step summary says what went, production is as
// it was, no apply lock.
func (s *stack) checkCleanedUp(prKey string, st actionResult, prod snapshot) {
	s.t.Helper()
	if snap := s.snapshot(prKey); len(snap.Versions) != 0 || len(snap.Items) != 0 || len(snap.Bodies) != 0 {
		s.t.Errorf("left of %s after cleanup: %s", prKey, snap)
	}
	for _, k := range s.objectKeys() {
		if strings.HasPrefix(k, strings.TrimSuffix(prKey, "terraform.tfstate")) {
			s.t.Errorf("left in the bucket after cleanup: %s", k)
		}
	}
	if s.table != "" {
		for _, id := range s.itemIDs() {
			if strings.Contains(id, prKey) {
				s.t.Errorf("left in the table after cleanup: %s", id)
			}
		}
	}
	if !strings.Contains(st.summary, "`"+prKey+"`") || !strings.Contains(st.summary, "| versions removed |") || st.outputs["versions-removed"] == "" || st.outputs["versions-removed"] == "0" {
		s.t.Errorf("cleanup step summary / outputs lack the key and counts: %v\n%s", st.outputs, st.summary)
	}
	if !strings.Contains(st.summary, "| "+st.outputs["versions-removed"]+" |") {
		s.t.Errorf("cleanup step summary lacks the versions removed (%s):\n%s", st.outputs["versions-removed"], st.summary)
	}
	if after := s.snapshot(prodKey); !reflect.DeepEqual(prod, after) {
		s.t.Errorf("cleanup changed production\nbefore: %s\nafter: %s", prod, after)
	}
	if s.applyLockHeld("dynamodb") || s.applyLockHeld("s3") {
		s.t.Error("an apply lock exists after cleanup")
	}
}

// checkout is another runner's checkout of the repository at a commit
// whose configuration has resources: same bucket and table, own workspace,
// moto reached through via when set.
func (s *stack) checkout(via string, resources ...string) *stack {
	s.t.Helper()
	c := *s
	c.root = s.t.TempDir()
	c.dir = filepath.Join(c.root, "infra")
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	c.writeConfig(true, resources...)
	if via != "" {
		tf := filepath.Join(c.dir, "main.tf")
		if err := os.WriteFile(tf, []byte(strings.ReplaceAll(readFile(s.t, tf), s.moto.Endpoint, via)), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	return &c
}

func (s *stack) prodSerial() int64 { s.t.Helper(); return s.prodState().Serial }

// prodAddresses lists the resources production's state tracks (terraform
// indents the state it writes, tofu does not: read it, never grep it).
func (s *stack) prodAddresses() []string { s.t.Helper(); return s.prodState().Addresses() }

// prodState reads and parses production's state.
func (s *stack) prodState() tfstate.Header {
	s.t.Helper()
	obj, ok := s.getObject(prodKey)
	if !ok {
		s.t.Fatal("no production state")
	}
	h, err := tfstate.Parse(obj.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// ledgerTable is the table as the ledger wants it (nil without one).
func (s *stack) ledgerTable() storage.Table {
	if s.table == "" {
		return nil
	}
	return s.tableStore()
}

// applyLockHeld tells whether the apply lock is held in backend (on S3 a
// release leaves a released record, which is no lock).
func (s *stack) applyLockHeld(backend string) bool {
	s.t.Helper()
	if backend == "dynamodb" {
		if s.table == "" {
			return false
		}
		_, ok := s.getItem(statekey.ApplyLockItemID(s.bucket, prodKey))
		return ok
	}
	obj, ok := s.getObject(statekey.ApplyLockKey(prodKey))
	return ok && !applylock.IsReleasedRecord(obj.Body)
}

// checkApplyLock: the apply lock in backend is held with id (and not
// in the other place).
func (s *stack) checkApplyLock(backend, id string) {
	s.t.Helper()
	var body []byte
	if backend == "dynamodb" {
		it, ok := s.getItem(statekey.ApplyLockItemID(s.bucket, prodKey))
		if !ok {
			s.t.Fatal("no apply lock item")
		}
		body = []byte(it["Info"])
		if s.applyLockHeld("s3") {
			s.t.Error("an S3 apply lock beside the DynamoDB one")
		}
	} else {
		obj, ok := s.getObject(statekey.ApplyLockKey(prodKey))
		if !ok {
			s.t.Fatal("no apply lock object")
		}
		body = obj.Body
	}
	rec, err := applylock.ParseRecord(body)
	if err != nil || rec.ID != id {
		s.t.Fatalf("apply lock record %+v, %v; want ID %s", rec, err, id)
	}
}

// job is what differs between workflow runs: run ID, commit, and for a
// push the commit before it; api is GITHUB_API_URL.
type job struct {
	runID, sha, before, api string
	// args, when set, are the command line (e.g. run -- tofu apply), and
	// the binary starts in the root module rather than the workspace.
	args []string
}

// applyJob is one apply-on-merge job: the action's main step (auto ->
// lock), terraform apply unless superseded, the action's post step.
type applyJob struct {
	job
	checkout *stack
	main     *actionProc
	res      actionResult
	inputs   map[string]string
}

func (j *applyJob) start(t *testing.T, inputs map[string]string) {
	t.Helper()
	j.inputs = inputs
	j.main = j.checkout.startAction(j.job, pushPayload(t, j.before, j.sha), inputs, nil)
}

func (j *applyJob) finishMain(t *testing.T) {
	t.Helper()
	j.res = j.main.wait()
	j.res.mustSucceed(t)
	if !strings.Contains(j.res.stderr, "push event -> lock") {
		t.Errorf("auto did not pick lock on a push to main:\n%s", j.res.stderr)
	}
}

func (j *applyJob) apply(t *testing.T) {
	t.Helper()
	if j.res.outputs["superseded"] == "true" {
		t.Fatal("applying a superseded commit")
	}
	data := filepath.Join(t.TempDir(), "tf-apply")
	j.checkout.mustTerraform(data, nil, "init")
	if out := j.checkout.mustTerraform(data, nil, "apply", "-auto-approve", "-lock-timeout=30s"); !strings.Contains(out, "Apply complete!") {
		t.Fatalf("apply of %s:\n%s", j.sha, out)
	}
}

// postStep runs the action's post step as the runner does: same inputs,
// STATE_<name> for what the main step saved.
func (j *applyJob) postStep(t *testing.T) {
	t.Helper()
	post := j.checkout.action(j.job, pushPayload(t, j.before, j.sha), j.inputs, j.res.state)
	post.mustSucceed(t)
	if id := j.res.state["lock_id"]; id != "" {
		if !strings.Contains(post.stderr, "releasing apply lock "+id) {
			t.Errorf("post step did not release %s:\n%s", id, post.stderr)
		}
	} else if !strings.Contains(post.stderr, "no lock to release") {
		t.Errorf("post step without a lock:\n%s", post.stderr)
	}
}

// actionProc is a running action step.
type actionProc struct {
	s              *stack
	cmd            *exec.Cmd
	files          string
	stdout, stderr bytes.Buffer
	started, ended time.Time
	done           chan struct{}
	err            error
}

// actionResult is a finished step: what the runner sees.
type actionResult struct {
	step
	state    map[string]string // GITHUB_STATE
	rawState string
}

func (r actionResult) mustSucceed(t *testing.T) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("prstate exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// action runs one step of the action to its end.
func (s *stack) action(j job, ev event, inputs, state map[string]string) actionResult {
	s.t.Helper()
	return s.startAction(j, ev, inputs, state).wait()
}

// startAction starts the binary as the runner starts the action's
// container: every input of action.yml as INPUT_<NAME> with its default
// unless set, the GITHUB_* variables of job j, fresh file-command files,
// and for a post step (state not nil) STATE_<name> for each saved value.
func (s *stack) startAction(j job, ev event, inputs, state map[string]string) *actionProc {
	s.t.Helper()
	p := &actionProc{s: s, files: s.t.TempDir(), done: make(chan struct{})}
	runID, sha := j.runID, j.sha
	if runID == "" {
		runID = "9001"
	}
	if sha == "" {
		sha = "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"
	}
	ref := ev.ref
	if ref == "" {
		ref = "refs/heads/main"
	}
	env := s.runnerEnv()
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": ev.name, "GITHUB_EVENT_PATH": ev.payload,
		"GITHUB_WORKSPACE": s.root, "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": runID, "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_SHA": sha, "GITHUB_REF": ref, "GITHUB_API_URL": j.api,
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_ACTOR": "octocat",
		"GITHUB_OUTPUT": filepath.Join(p.files, "output"), "GITHUB_ENV": filepath.Join(p.files, "env"),
		"GITHUB_STATE": filepath.Join(p.files, "state"), "GITHUB_STEP_SUMMARY": filepath.Join(p.files, "summary"),
		"GITHUB_PATH": filepath.Join(p.files, "path"),
	} {
		env = append(env, k+"="+v)
	}
	env = append(env, s.inputEnv(inputs)...)
	for k, v := range state {
		env = append(env, "STATE_"+k+"="+v)
	}
	s.createFileCommands(p.files)
	p.cmd = exec.CommandContext(s.t.Context(), s.bin, j.args...)
	p.cmd.Dir, p.cmd.Env = s.root, env
	if len(j.args) > 0 {
		p.cmd.Dir = s.dir
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		s.t.Fatalf("failed to start prstate: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.ended = time.Now()
		close(p.done)
	}()
	return p
}

// wait waits for the step and reads what it left for the runner.
func (p *actionProc) wait() actionResult {
	t := p.s.t
	t.Helper()
	<-p.done
	t.Logf("prstate: %s", time.Since(p.started).Round(time.Millisecond))
	var r actionResult
	var ee *exec.ExitError
	switch {
	case errors.As(p.err, &ee):
		r.code = ee.ExitCode()
	case p.err != nil:
		t.Fatalf("failed to run prstate: %v", p.err)
	}
	r.stdout, r.stderr = p.stdout.String(), p.stderr.String()
	r.rawOutput = readFile(t, filepath.Join(p.files, "output"))
	r.rawEnv = readFile(t, filepath.Join(p.files, "env"))
	r.rawState = readFile(t, filepath.Join(p.files, "state"))
	r.summary = readFile(t, filepath.Join(p.files, "summary"))
	r.outputs = parseFileCommands(t, r.rawOutput)
	r.env = parseFileCommands(t, r.rawEnv)
	r.state = parseFileCommands(t, r.rawState)
	for _, where := range []string{r.stdout, withoutMaskCommands(r.stderr), r.rawOutput, r.rawEnv, r.rawState, r.summary} {
		if strings.Contains(where, fakeToken) {
			t.Errorf("the GitHub token was printed:\n%s", where)
		}
	}
	return r
}

// prPayload is a pull_request event for pr shaped like GitHub's; closed
// events carry merged and the merge commit.
func prPayload(t *testing.T, action string, pr int, merged bool, mergeSHA string) event {
	t.Helper()
	ev := prEvent(t, action, pr)
	if action != "closed" {
		return ev
	}
	return editPayload(t, ev, func(p map[string]any) {
		o := p["pull_request"].(map[string]any)
		o["state"], o["merged"] = "closed", merged
		if merged {
			o["merge_commit_sha"] = mergeSHA
		}
	})
}

// pushPayload is a push of after (on top of before) to main.
func pushPayload(t *testing.T, before, after string) event {
	t.Helper()
	return editPayload(t, testdataEvent(t, "push", "push.json", "refs/heads/main"), func(p map[string]any) {
		p["before"], p["after"] = before, after
		p["head_commit"].(map[string]any)["id"] = after
	})
}

func editPayload(t *testing.T, ev event, edit func(map[string]any)) event {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(readFile(t, ev.payload)), &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	ev.payload = filepath.Join(t.TempDir(), ev.name+".json")
	if err := os.WriteFile(ev.payload, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return ev
}

// newRunnerAPI is the GitHub API the jobs see: the repository's history
// (base <- A <- B) for compare, and every workflow run in progress (the
// holder is alive: the waiter must wait for its post step, not take over).
func newRunnerAPI(t *testing.T) *githubfake.Server {
	fake := githubfake.New(t, "acme/infra")
	fake.Token = fakeToken
	fake.AddCommit(commitBase)
	fake.AddCommit(mergeA, commitBase)
	fake.AddCommit(mergeB, mergeA)
	fake.SetBranch("main", mergeB) // a superseded merge is skipped only behind main's head
	fake.AnyRun = "in_progress"
	return fake
}

// checkNoWaiters: the waiters record of production, if a job announced
// its wait there, lists nobody once every job is done.
func (s *stack) checkNoWaiters(lockBackend string) {
	s.t.Helper()
	obs, err := applylock.NewWaitersStore(s.bucketStore(), s.ledgerTable(), lockBackend, prodKey).Read(s.t.Context())
	if errors.Is(err, storage.ErrNotFound) {
		return
	}
	if err != nil {
		s.t.Fatal(err)
	}
	var rec struct{ Waiters []json.RawMessage }
	if err := json.Unmarshal(obs.Body, &rec); err != nil || len(rec.Waiters) != 0 {
		s.t.Errorf("waiters record after both jobs: %s (%v)", obs.Body, err)
	}
}
