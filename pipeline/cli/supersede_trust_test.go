package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestLockRefusesAForgedLedger: a PR job wrote the ledger naming its own
// commit P (a child of main's head C). The merge of C must not be skipped
// as superseded: lock fails (exit 1) naming the record. This runs as in
// the action's image: no git on PATH, so only the compare API answers.
func TestLockRefusesAForgedLedger(t *testing.T) {
	t.Parallel()
	bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	a := newTestApp(t, Store{Bucket: bucket, Table: table})
	fake, _, _, shaC := a.mainOnGitHub(t)
	p := strings.Repeat("7e", 20)
	fake.AddCommit(p, shaC)
	ledger := applylock.NewLedger(bucket, table, "dynamodb", "app/terraform.tfstate")
	if _, err := ledger.Write(context.Background(), applylock.LedgerRecord{}, applylock.LedgerEntry{SHA: p, Run: applylock.Run{Repository: "acme/infra", RunURL: "https://evil.example/x\n::warning::pwned"}}); err != nil {
		t.Fatal(err)
	}
	a.push(shaC, "300")
	a.env["PATH"] = "" // the action's image has no git
	code := a.run("lock", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--dynamodb-table", "tf-locks", "--lock-backend", "dynamodb", "--lock-timeout", "5s")
	stderr := a.stderr.String()
	if code != 1 || !strings.Contains(stderr, "refusing to skip commit "+shaC[:7]) || !strings.Contains(stderr, ledger.Where()) || !strings.Contains(stderr, p[:7]) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out := a.file("github_output"); strings.Contains(out, "superseded<<_GitHubActionsFileCommandDelimeter_\ntrue") {
		t.Fatalf("skipped: %s", out)
	}
	assertNoInjectedCommands(t, stderr)
	if _, err := table.GetItem(context.Background(), "acme-state/app/terraform.tfstate.prstate-apply"); err == nil {
		t.Fatal("the apply lock is still held after the failure")
	}
}

// TestActionImageDoesNotFallBackToGit: in the action's image (no git) a
// compare API error is the step's error, said plainly, not a git failure.
func TestActionImageDoesNotFallBackToGit(t *testing.T) {
	t.Parallel()
	bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	a := newTestApp(t, Store{Bucket: bucket, Table: table})
	shaA, _, shaC := commits(t, a.dir)
	fake := a.withGitHub(t)
	ledger := applylock.NewLedger(bucket, table, "s3", "app/terraform.tfstate")
	if _, err := ledger.Write(context.Background(), applylock.LedgerRecord{}, applylock.LedgerEntry{SHA: shaA}); err != nil {
		t.Fatal(err)
	}
	fake.Fail("compare", http.StatusBadGateway)
	a.push(shaC, "301")
	a.env["PATH"] = ""
	code := a.run("lock", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--lock-timeout", "5s")
	stderr := a.stderr.String()
	if code != 1 || !strings.Contains(stderr, "502") || strings.Contains(stderr, "git merge-base") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// assertNoInjectedCommands: every line of stderr that starts a workflow
// command is one prstate issues itself, and none is an attacker's
// (`::warning::pwned`, `::set-output ...`, carried in by a record).
func assertNoInjectedCommands(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "::") {
			continue
		}
		own := false
		for _, prefix := range []string{"::add-mask::", "::error::", "::warning::", "::notice::"} {
			own = own || strings.HasPrefix(line, prefix)
		}
		if !own || strings.HasPrefix(line, "::warning::pwned") || strings.HasPrefix(line, "::set-output") {
			t.Errorf("an injected workflow command: %q", line)
		}
	}
}
