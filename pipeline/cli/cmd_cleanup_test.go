package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// memStore is a fresh in-memory bucket and table, shaped as the scenarios want.
func memStore() (Store, cleanuptest.Store) {
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	return Store{Bucket: b, Table: tb}, cleanuptest.Store{Bucket: b, Table: tb}
}

// writeStack writes a root module with a backend "s3" block under dir.
func writeStack(t *testing.T, dir, key string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tf := `terraform {
  backend "s3" {
    bucket         = "acme-state"
    key            = "` + key + `"
    region         = "us-east-1"
    dynamodb_table = "tf-locks"
    use_lockfile   = true
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCleanupCommandOnClose(t *testing.T) {
	t.Parallel()
	store, s := memStore()
	a := newTestApp(t, store)
	a.actions("pull_request", "pull_request_closed_merged.json")
	writeStack(t, filepath.Join(a.dir, "stacks", "app"), cleanuptest.Prod)
	writeStack(t, filepath.Join(a.dir, "stacks", "net"), "net/terraform.tfstate")
	cleanuptest.Production(t, s)
	st := cleanuptest.Stack(t, s, true, true, false)
	key := cleanuptest.SeededPR(t, s, st, 42, 2)
	netKeys, _ := statekey.NewKeys("net/terraform.tfstate", "")
	netKey, _ := netKeys.Render(42)
	cleanuptest.Put(t, s, netKey, cleanuptest.StateJSON(1, "net-lineage"))
	other := cleanuptest.SeededPR(t, s, st, 43, 1)
	before := cleanuptest.Take(t, s)

	a.env["INPUT_WORKING-DIRECTORY"] = "stacks/*"
	if code := a.run("cleanup"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	for _, want := range []string{"removed " + key + " (PR #42): 8 version(s)", "removed " + netKey + " (PR #42): 1 version(s)"} {
		if !strings.Contains(a.stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, a.stdout.String())
		}
	}
	if out := a.file("github_output"); !strings.Contains(out, "deleted<<") || !strings.Contains(out, "\n2\n") {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	sum := a.file("github_step_summary")
	if !strings.Contains(sum, "| PR | keys | versions removed | bytes freed | items | skipped, and why |") || !strings.Contains(sum, "| #42 | `"+key+"`<br>`"+statekey.SeedRecordKey(key)+"`<br>`"+key+".tflock` | 8 |") {
		t.Errorf("step summary:\n%s", sum)
	}
	after := cleanuptest.Take(t, s)
	if d := cleanuptest.Diff(before.Without("acme-state", key, key+".tflock", netKey, netKey+".tflock"), after); len(d) > 0 {
		t.Fatalf("changed beyond PR 42:\n%s", strings.Join(d, "\n"))
	}
	if !strings.Contains(strings.Join(mapKeys(after), " "), other) {
		t.Fatal("PR 43 was touched")
	}
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCleanupCommandRefusesAppliedState(t *testing.T) {
	t.Parallel()
	store, s := memStore()
	a := newTestApp(t, store)
	cleanuptest.Production(t, s)
	st := cleanuptest.Stack(t, s, true, true, false)
	key := cleanuptest.SeededPR(t, s, st, 5, 1)
	cleanuptest.Put(t, s, key, cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.pr_bucket"))
	before := cleanuptest.Take(t, s)
	args := []string{"cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--dynamodb-table", "tf-locks", "--use-lockfile", "--pr", "5"}
	if code := a.run(args...); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, a.stderr.String())
	}
	if !strings.Contains(a.stdout.String(), "would orphan terraform_data.pr_bucket") || !strings.Contains(a.stderr.String(), "--force") {
		t.Fatalf("stdout %q stderr %q", a.stdout.String(), a.stderr.String())
	}
	if d := cleanuptest.Diff(before, cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("refused cleanup changed:\n%s", strings.Join(d, "\n"))
	}
	if code := a.run(append(args, "--force", "--json")...); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, a.stderr.String())
	}
	var rep cleanupReport
	if err := json.Unmarshal(a.stdout.Bytes(), &rep); err != nil || rep.Deleted != 1 || rep.Results[0].Versions != 6 { // state 3, .tflock 2, seed record 1
		t.Fatalf("json %s: %+v %v", a.stdout.String(), rep, err)
	}
}

func TestCleanupCommandLockTimeoutExits3(t *testing.T) {
	t.Parallel()
	store, s := memStore()
	a := newTestApp(t, store)
	clk := clocktest.New()
	a.clock = clk // the wait is the App's clock's, not the test's time
	cleanuptest.Production(t, s)
	st := cleanuptest.Stack(t, s, false, true, false)
	key := cleanuptest.SeededPR(t, s, st, 6, 0)
	info := applylock.LockInfo{ID: "1b6c2d4e-0000-4000-8000-000000000001", Operation: "OperationTypePlan", Who: "runner@plan"}
	if err := s.Table.PutItem(context.Background(), storage.Item{storage.KeyAttr: statekey.LockItemID("acme-state", key), "Info": string(info.Marshal())}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
	before := cleanuptest.Take(t, s)
	start := clk.Now()
	code := a.run("cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--dynamodb-table", "tf-locks", "--pr", "6", "--lock-timeout", "10m")
	if waited := clk.Now().Sub(start); waited < 10*time.Minute {
		t.Errorf("waited %s on the App's clock, want the whole lock-timeout", waited)
	}
	if code != 3 || !strings.Contains(a.stderr.String(), "runner@plan") || !strings.Contains(a.stderr.String(), "force-unlock '1b6c2d4e") {
		t.Fatalf("exit %d, want 3: %s", code, a.stderr.String())
	}
	if d := cleanuptest.Diff(before, cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("changed:\n%s", strings.Join(d, "\n"))
	}
}

func TestCleanupCommandBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod},
		{"cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--pr", "0"},
		{"cleanup", "--bucket", "acme-state", "--key", "app/../x", "--pr", "3"},
		{"cleanup", "--key", cleanuptest.Prod, "--pr", "3"},
		{"cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--pr", "3", "--lock-timeout", "soon"},
	} {
		store, s := memStore()
		a := newTestApp(t, store)
		cleanuptest.Production(t, s)
		st := cleanuptest.Stack(t, s, false, true, false)
		cleanuptest.SeededPR(t, s, st, 3, 1)
		before := cleanuptest.Take(t, s)
		if code := a.run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, a.stderr.String())
		}
		if d := cleanuptest.Diff(before, cleanuptest.Take(t, s)); len(d) > 0 {
			t.Errorf("%v changed the store: %v", args, d)
		}
	}
}
