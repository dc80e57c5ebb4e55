package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestPlanOverStacksWritesOneBackendFilePerStack: plan over stacks/* on a
// pull request writes a PR backend file in each of the three stacks, each
// naming its own PR key, with outputs as a JSON list and per stack, and
// saves all three for the post step's init check.
func TestPlanOverStacksWritesOneBackendFilePerStack(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state")})
	a.actions("pull_request", "pull_request_synchronize.json")
	writeThreeStacks(t, a.dir)
	if code := a.run("plan", "--working-directory", "stacks/*"); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, a.stderr.String())
	}
	want := map[string]string{
		"stacks/app": "prod/c-app/pr-42/terraform.tfstate",
		"stacks/db":  "prod/a-db/pr-42/terraform.tfstate",
		"stacks/net": "prod/b-net/pr-42/terraform.tfstate",
	}
	for dir, key := range want {
		body, err := os.ReadFile(filepath.Join(a.dir, dir, "prstate.s3.tfbackend"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), key) {
			t.Errorf("%s backend file lacks %s:\n%s", dir, key, body)
		}
		for other, k := range want {
			if other != dir && strings.Contains(string(body), k) {
				t.Errorf("%s backend file names %s's key", dir, other)
			}
		}
		if !strings.Contains(a.stdout.String(), key) {
			t.Errorf("stdout lacks %s: %s", key, a.stdout.String())
		}
	}
	out := a.file("github_output")
	for _, w := range []string{"plans<<", "prod/c-app/pr-42/terraform.tfstate", "\"working_directory\":\"stacks/net\"", "backend-config<<_GitHubActionsFileCommandDelimeter_\nprstate.s3.tfbackend\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", w, out)
		}
	}
	state := a.file("github_state")
	i := strings.Index(state, "prstate_pr_init<<")
	if i < 0 {
		t.Fatalf("no init check saved:\n%s", state)
	}
	lines := strings.SplitN(state[i:], "\n", 3)
	var inits []backend.PRInit
	if err := json.Unmarshal([]byte(lines[1]), &inits); err != nil || len(inits) != 3 {
		t.Fatalf("init checks %v %v", inits, err)
	}
	// An explicit backend file cannot serve three stacks.
	if code := a.run("plan", "--working-directory", "stacks/*", "--backend-config-file", "pr.tfbackend"); code != 2 || !strings.Contains(a.stderr.String(), "names one file") {
		t.Fatalf("explicit file over stacks: exit %d: %s", code, a.stderr.String())
	}
}

// TestSingleStackCommandsRefuseSeveral: key and force-unlock work on one
// stack: given several they exit 2 naming them all, and a glob that
// matches nothing is exit 2 naming it. No silent first match.
func TestSingleStackCommandsRefuseSeveral(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state")})
	writeThreeStacks(t, a.dir)
	for _, argv := range [][]string{
		{"key", "--working-directory", "stacks/*"},
		{"force-unlock", "--working-directory", "stacks/app, stacks/db", "--lock-id", "x"},
	} {
		code := a.run(argv...)
		if code != 2 {
			t.Fatalf("%v: exit %d: %s", argv, code, a.stderr.String())
		}
		for _, w := range []string{"works on one stack", "stacks/app", "stacks/db"} {
			if !strings.Contains(a.stderr.String(), w) {
				t.Errorf("%v: stderr lacks %q: %s", argv, w, a.stderr.String())
			}
		}
	}
	for _, cmd := range []string{"lock", "plan", "status", "cleanup", "doctor", "key"} {
		if code := a.run(cmd, "--working-directory", "stackz/*"); code != 2 || !strings.Contains(a.stderr.String(), `"stackz/*" matches nothing`) {
			t.Errorf("%s over an empty glob: exit %d: %s", cmd, code, a.stderr.String())
		}
	}
}

// TestStatusOverStacksInTwoBuckets: status over stacks in two buckets
// lists the locks of both, each bucket once; lock takes the other
// bucket's lock first (sorted by bucket, then key).
func TestStatusOverStacksInTwoBuckets(t *testing.T) {
	t.Parallel()
	state, other := &orderBucket{Bucket: memstore.NewBucket("acme-state")}, &orderBucket{Bucket: memstore.NewBucket("acme-other")}
	a := newTestApp(t, Store{})
	a.open = func(_ context.Context, b backend.Backend) (Store, error) {
		if b.Bucket == "acme-other" {
			return Store{Bucket: other}, nil
		}
		return Store{Bucket: state}, nil
	}
	a.actions("push", "push.json")
	writeThreeStacks(t, a.dir)
	if err := os.MkdirAll(filepath.Join(a.dir, "stacks/zz"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "stacks/zz/main.tf"), []byte("terraform {\n  backend \"s3\" {\n    bucket = \"acme-other\"\n    key    = \"zz/terraform.tfstate\"\n    region = \"us-east-1\"\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := a.run("lock", "--working-directory", "stacks/*"); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, a.stderr.String())
	}
	if w := other.writes(); !slices.Equal(w, []string{"zz/terraform.tfstate.prstate-apply.lock"}) {
		t.Fatalf("other bucket writes %q", w)
	}
	if w := state.writes(); len(w) != 3 {
		t.Fatalf("state bucket writes %q", w)
	}
	if code := a.run("status", "--working-directory", "stacks/*", "--json"); code != 0 {
		t.Fatalf("status: exit %d: %s", code, a.stderr.String())
	}
	var locks []applylock.LockEntry
	if err := json.Unmarshal(a.stdout.Bytes(), &locks); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range locks {
		keys = append(keys, l.StateKey)
	}
	slices.Sort(keys)
	want := []string{"prod/a-db/terraform.tfstate", "prod/b-net/terraform.tfstate", "prod/c-app/terraform.tfstate", "zz/terraform.tfstate"}
	if !slices.Equal(keys, want) {
		t.Fatalf("status lists %q, want %q", keys, want)
	}
}
