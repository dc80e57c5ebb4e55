package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

const applyLockObject = "app/terraform.tfstate.prstate-apply.lock"

var stateFlags = []string{"--bucket", "acme-state", "--key", "app/terraform.tfstate"}

func args(cmd string, extra ...string) []string {
	return append(append([]string{cmd}, stateFlags...), extra...)
}

func TestLockUnlockAndPostStep(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	if code := a.run(args("lock")...); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, a.stderr.String())
	}
	id := strings.TrimSpace(a.stdout.String())
	obj, err := b.GetObject(t.Context(), applyLockObject)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := applylock.ParseRecord(obj.Body)
	if rec.ID != id || rec.Holder.RunID != "9001" || rec.Holder.Repository != "acme/infra" || rec.Holder.Lease != "6h0m0s" || rec.Holder.SHA == "" {
		t.Fatalf("holder record %+v", rec)
	}
	state := a.file("github_state")
	for _, want := range []string{"lock_id<<", id, "prstate_post<<", "\ntrue\n"} {
		if !strings.Contains(state, want) {
			t.Errorf("GITHUB_STATE lacks %q:\n%s", want, state)
		}
	}
	if out := a.file("github_output"); !strings.Contains(out, "lock-id<<") || !strings.Contains(out, id) {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	// The post step: same inputs, STATE_* set, no arguments.
	post := newTestApp(t, Store{Bucket: b})
	post.actions("push", "push.json")
	post.env["INPUT_BUCKET"], post.env["INPUT_KEY"], post.env["INPUT_COMMAND"] = "acme-state", "app/terraform.tfstate", "lock"
	post.env["STATE_prstate_post"], post.env["STATE_lock_id"] = "true", id
	if code := post.run(); code != 0 {
		t.Fatalf("post: exit %d: %s", code, post.stderr.String())
	}
	if obj, err := b.GetObject(t.Context(), applyLockObject); err != nil || !applylock.IsReleasedRecord(obj.Body) {
		t.Fatalf("post step left the lock: %s %v", obj.Body, err)
	}
	if s := post.file("github_step_summary"); !strings.Contains(s, "released lock `"+id+"`") || !strings.Contains(s, "app/terraform.tfstate") {
		t.Errorf("post step summary:\n%s", s)
	}
	if code := post.run(); code != 0 || !strings.Contains(post.stdout.String(), "not held") {
		t.Fatalf("second post: exit %d, %q", code, post.stdout.String())
	}
	// A post step of a job that never locked does nothing.
	delete(post.env, "STATE_lock_id")
	if code := post.run(); code != 0 || post.stdout.String() != "" {
		t.Fatalf("post without lock: exit %d, %q", code, post.stdout.String())
	}
}

func TestUnlockLeavesSomeoneElsesLock(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	if code := a.run(args("lock")...); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, a.stderr.String())
	}
	id := strings.TrimSpace(a.stdout.String())
	if code := a.run(args("unlock", "--lock-id", "not-"+id)...); code != 1 || !strings.Contains(a.stderr.String(), "may have overlapped") || !strings.Contains(a.stdout.String(), id) {
		t.Fatalf("unlock of another ID: exit %d, stdout %q stderr %q", code, a.stdout.String(), a.stderr.String())
	}
	if _, err := b.GetObject(t.Context(), applyLockObject); err != nil {
		t.Fatalf("someone else's lock was deleted: %v", err)
	}
	if code := a.run(args("unlock")...); code != 2 {
		t.Fatalf("unlock without an ID: exit %d", code)
	}
	if code := a.run(args("unlock", "--lock-id", id)...); code != 0 || !strings.Contains(a.stdout.String(), "released") {
		t.Fatalf("unlock: exit %d %q", code, a.stdout.String())
	}
}

func TestLockTimeoutExits3(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	if code := a.run(args("lock")...); code != 0 {
		t.Fatal(a.stderr.String())
	}
	id := strings.TrimSpace(a.stdout.String())
	if code := a.run(args("lock", "--lock-timeout", "300ms", "--lock-poll", "50ms")...); code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, a.stderr.String())
	}
	for _, want := range []string{"waiting for the apply lock", "prstate status", "prstate force-unlock --lock-id '" + id + "'"} {
		if !strings.Contains(a.stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, a.stderr.String())
		}
	}
}

// TestLockTimeoutWritesAStepSummary: a lock wait that times out (exit 3)
// leaves a step summary naming the lock, the wait, the holder and how to
// free it.
func TestLockTimeoutWritesAStepSummary(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	if code := a.run(args("lock")...); code != 0 {
		t.Fatal(a.stderr.String())
	}
	id := strings.TrimSpace(a.stdout.String())
	if err := os.Remove(filepath.Join(a.dir, "github_step_summary")); err != nil {
		t.Fatal(err)
	}
	if code := a.run(args("lock", "--lock-timeout", "300ms", "--lock-poll", "50ms")...); code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, a.stderr.String())
	}
	s := a.file("github_step_summary")
	for _, want := range []string{"### prstate lock", "`app/terraform.tfstate`", "timed out after", "waiting for the apply lock (exit 3), held by", "prstate status", "`" + id + "`"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

func TestRunExitsWithTheCommandsCode(t *testing.T) {
	t.Parallel()
	tb := memstore.NewTable("locks")
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state"), Table: tb})
	code := a.run(args("run", "--dynamodb-table", "locks", "--", "sh", "-c", `test -n "$PRSTATE_LOCK_ID" && exit 7`)...)
	if code != 7 {
		t.Fatalf("exit %d, want 7: %s", code, a.stderr.String())
	}
	if items, _ := tb.ScanItems(t.Context(), ""); len(items) != 0 {
		t.Fatalf("lock left behind: %v", items)
	}
	if code := a.run(args("run", "--dynamodb-table", "locks", "--", "/no/such/cmd")...); code != 1 {
		t.Fatalf("missing command: exit %d", code)
	}
	if items, _ := tb.ScanItems(t.Context(), ""); len(items) != 0 {
		t.Fatalf("lock left behind after a failed start: %v", items)
	}
	if code := a.run(args("run")...); code != 2 {
		t.Fatalf("run without a command: exit %d", code)
	}
}

func TestStatusAndForceUnlock(t *testing.T) {
	t.Parallel()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
	ctx := t.Context()
	b.PutObject(ctx, "app/terraform.tfstate", []byte(`{"version":4,"serial":3,"lineage":"l"}`), storage.PutOptions{})
	tfLock := applylock.LockInfo{ID: "tf-lock-1", Operation: "OperationTypeApply", Who: "ci@runner", Version: "1.11.0", Path: "acme-state/app/terraform.tfstate"}
	tb.PutItem(ctx, storage.Item{storage.KeyAttr: "acme-state/app/terraform.tfstate", "Info": string(tfLock.Marshal())}, storage.Condition{})
	tb.PutItem(ctx, storage.Item{storage.KeyAttr: "acme-state/app/terraform.tfstate-md5", "Digest": "abc"}, storage.Condition{})
	other := tfLock
	other.ID = "tf-lock-2" // IDs are unique: one ID naming two locks is refused (TestForceUnlockRefusesAnIDNamingTwoLocks)
	b.PutObject(ctx, "other/terraform.tfstate.tflock", other.Marshal(), storage.PutOptions{})

	// GitHub says run 9001 is in progress.
	gh := githubfake.New(t, "acme/infra")
	gh.Token = "ghs_secret"
	gh.SetRun(9001, "in_progress")
	a := newTestApp(t, Store{Bucket: b, Table: tb})
	a.actions("push", "push.json")
	a.env["GITHUB_API_URL"], a.env["INPUT_GITHUB-TOKEN"] = gh.URL, "ghs_secret"
	if code := a.run(args("lock", "--dynamodb-table", "locks")...); code != 0 {
		t.Fatal(a.stderr.String())
	}
	applyID := strings.TrimSpace(a.stdout.String())

	if code := a.run(args("status", "--dynamodb-table", "locks", "--json")...); code != 0 {
		t.Fatal(a.stderr.String())
	}
	var locks []applylock.LockEntry
	if err := json.Unmarshal(a.stdout.Bytes(), &locks); err != nil {
		t.Fatalf("%v: %s", err, a.stdout.String())
	}
	kinds := map[string]applylock.LockEntry{}
	for _, l := range locks {
		kinds[l.Kind+" "+l.StateKey] = l
	}
	if len(locks) != 3 || kinds["apply app/terraform.tfstate"].ID != applyID || kinds["terraform app/terraform.tfstate"].ID != "tf-lock-1" || kinds["terraform other/terraform.tfstate"].Who != "ci@runner" {
		t.Fatalf("status: %+v", locks)
	}
	if l := kinds["apply app/terraform.tfstate"]; l.Stale || l.RunURL == "" || l.SHA == "" {
		t.Fatalf("apply lock entry %+v", l)
	}
	// The token appears only in ::add-mask:: commands (the runner masks it).
	if strings.Contains(a.stdout.String()+strings.ReplaceAll(a.stderr.String(), "::add-mask::ghs_secret", ""), "ghs_secret") {
		t.Fatalf("token printed: %s %s", a.stdout.String(), a.stderr.String())
	}

	// The Terraform lock under a live apply lock is refused without --force.
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", "tf-lock-1")...); code != 1 || !strings.Contains(a.stderr.String(), "--force") {
		t.Fatalf("force-unlock of a live holder: exit %d: %s", code, a.stderr.String())
	}
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", applyID)...); code != 1 {
		t.Fatalf("force-unlock of a live apply lock: exit %d", code)
	}
	// Once GitHub says the run completed, the apply lock is stale.
	gh.SetRun(9001, "completed")
	if code := a.run(args("status", "--dynamodb-table", "locks")...); code != 0 || !strings.Contains(a.stdout.String(), "yes: GitHub run 9001 completed") {
		t.Fatalf("status: %d %s", code, a.stdout.String())
	}
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", applyID)...); code != 0 {
		t.Fatalf("force-unlock: exit %d: %s", code, a.stderr.String())
	}
	if !strings.Contains(a.stdout.String(), "removed apply lock "+applyID) || !strings.Contains(a.stdout.String(), ".prstate-backup/") {
		t.Fatalf("stdout %q", a.stdout.String())
	}
	objs, _ := b.ListObjects(ctx, "app/terraform.tfstate.prstate-backup/")
	if len(objs) != 1 {
		t.Fatalf("backups: %+v", objs)
	}
	backup, _ := b.GetObject(ctx, objs[0].Key)
	if !strings.Contains(string(backup.Body), `"serial":3`) {
		t.Fatalf("backup body %q", backup.Body)
	}
	// Now the Terraform lock has no live apply lock beside it.
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", "tf-lock-1")...); code != 0 {
		t.Fatalf("force-unlock terraform lock: exit %d: %s", code, a.stderr.String())
	}
	if _, err := tb.GetItem(ctx, "acme-state/app/terraform.tfstate"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("terraform lock still there: %v", err)
	}
	if it, err := tb.GetItem(ctx, "acme-state/app/terraform.tfstate-md5"); err != nil || it["Digest"] != "abc" {
		t.Fatalf("digest touched: %v %v", it, err)
	}
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks", "--lock-id", "nope")...); code != 2 {
		t.Fatalf("unknown ID: exit %d", code)
	}
	if code := a.run(args("force-unlock", "--dynamodb-table", "locks")...); code != 2 {
		t.Fatalf("no ID: exit %d", code)
	}
}

func TestRunUnderActionsLeavesNothingForThePostStep(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	if code := a.run(args("run", "--", "true")...); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	state := a.file("github_state")
	// The last lock_id saved is empty: the post step has nothing to release.
	i := strings.LastIndex(state, "lock_id<<")
	if i < 0 {
		t.Fatalf("GITHUB_STATE:\n%s", state)
	}
	lines := strings.SplitN(state[i:], "\n", 3)
	if delim := strings.TrimPrefix(lines[0], "lock_id<<"); len(lines) < 3 || lines[1] != "" || !strings.HasPrefix(lines[2], delim) {
		t.Fatalf("last lock_id is not empty:\n%s", state[i:])
	}
}

// TestLockRefusesAShortLease: lock mode cannot fence the job's steps, so a
// lease under applylock.MinLockLease is bad input (exit 2, nothing
// written); run, which renews it with heartbeats, accepts it.
func TestLockRefusesAShortLease(t *testing.T) {
	t.Parallel()
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	a.actions("push", "push.json")
	if code := a.run(args("lock", "--lease", "30s")...); code != 2 || !strings.Contains(a.stderr.String(), "invalid lease 30s for the lock command: want at least 1m0s") {
		t.Fatalf("lock --lease 30s: exit %d, want 2: %s", code, a.stderr.String())
	}
	if _, err := b.GetObject(t.Context(), applyLockObject); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused lock wrote the apply lock: %v", err)
	}
	if a.file("github_output") != "" || strings.Contains(a.file("github_state"), "lock_id") {
		t.Fatalf("a refused lock wrote outputs: %q %q", a.file("github_output"), a.file("github_state"))
	}
	r := newTestApp(t, Store{Bucket: b})
	r.actions("push", "push.json")
	if code := r.run(args("run", "--lease", "30s", "--", "true")...); code != 0 {
		t.Fatalf("run --lease 30s: exit %d: %s", code, r.stderr.String())
	}
}
