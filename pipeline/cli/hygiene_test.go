package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// inject is what a forged record carries in every text field: a line that
// would start a workflow command, an old set-output, a phishing link and
// markdown.
const inject = "x\n::warning::pwned\n::set-output name=x::y\r\n[login](https://evil.example/a) <img src=x> @octocat |"

// forgedApplyLock is an apply lock record a PR job could write, held for a
// long lease by someone who never heartbeats.
func forgedApplyLock() []byte {
	return applylock.Record{
		LockInfo: applylock.LockInfo{ID: "id" + inject, Operation: "prstate-apply", Who: inject, Version: "prstate", Created: time.Now().Add(-time.Minute)},
		Holder:   applylock.Holder{Run: applylock.Run{Repository: "acme/infra" + inject, RunID: "1", RunURL: "https://evil.example/login" + inject}, SHA: "not-a-sha" + inject, RVN: "r1", Lease: "6h", Renewed: time.Now()},
	}.Marshal()
}

var codeSpan = regexp.MustCompile("`[^`\n]*`")

// assertHygienic checks every surface of one run: no line of stderr or
// stdout starts a workflow command that prstate did not issue, no summary
// or output carries the injected lines, links or HTML.
func assertHygienic(t *testing.T, a *testApp) {
	t.Helper()
	assertNoInjectedCommands(t, a.stderr.String())
	assertNoInjectedCommands(t, a.stdout.String())
	for _, line := range strings.Split(a.stderr.String()+a.stdout.String(), "\n") {
		if strings.Contains(line, "\r") {
			t.Errorf("a raw carriage return: %q", line)
		}
	}
	// Inside a code span nothing is a link, HTML or a mention.
	sum := a.file("github_step_summary")
	outside := strings.NewReplacer(`\<`, "", `\[`, "", `\]`, "").Replace(codeSpan.ReplaceAllString(sum, "`code`"))
	for _, bad := range []string{"\n::", "](https://evil", "https://evil", "<img", "@octocat", "\r"} {
		if strings.Contains(outside, bad) {
			t.Errorf("step summary carries %q outside code:\n%s", bad, sum)
		}
	}
	out := a.file("github_output")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "x<<") || strings.HasPrefix(line, "::") {
			t.Errorf("GITHUB_OUTPUT carries an injected line %q:\n%s", line, out)
		}
	}
}

// TestForgedLockRecordsAreEscapedEverywhere drives status, the lock wait
// and cleanup's held-lock path over records whose every field carries
// workflow commands, with GITHUB_ACTIONS=true.
func TestForgedLockRecordsAreEscapedEverywhere(t *testing.T) {
	t.Parallel()
	t.Run("status", func(t *testing.T) {
		t.Parallel()
		b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
		ctx := context.Background()
		tb.PutItem(ctx, storage.Item{storage.KeyAttr: "acme-state/app/terraform.tfstate.prstate-apply", "Info": string(forgedApplyLock())}, storage.Condition{})
		tfLock := applylock.LockInfo{ID: "tf" + inject, Operation: inject, Who: inject, Info: inject}
		tb.PutItem(ctx, storage.Item{storage.KeyAttr: "acme-state/app/pr-7/terraform.tfstate", "Info": string(tfLock.Marshal())}, storage.Condition{})
		b.PutObject(ctx, "app/pr-8\n::warning::pwned/terraform.tfstate.tflock", tfLock.Marshal(), storage.PutOptions{})
		a := newTestApp(t, Store{Bucket: b, Table: tb})
		a.actions("push", "push.json")
		if code := a.run(args("status", "--dynamodb-table", "locks")...); code != 0 {
			t.Fatalf("exit %d: %s", code, a.stderr.String())
		}
		assertHygienic(t, a)
		if !strings.Contains(a.stdout.String(), "(unverified)") || !strings.Contains(a.file("github_step_summary"), "(unverified)") || !strings.Contains(a.stdout.String(), "(invalid)") {
			t.Errorf("the forged run URL is not marked unverified, or its SHA not invalid:\n%s\n%s", a.stdout.String(), a.file("github_step_summary"))
		}
	})
	t.Run("lock wait", func(t *testing.T) {
		t.Parallel()
		b := memstore.NewBucket("acme-state")
		b.PutObject(context.Background(), applyLockObject, forgedApplyLock(), storage.PutOptions{})
		a := newTestApp(t, Store{Bucket: b})
		a.actions("push", "push.json")
		if code := a.run(args("lock", "--lock-timeout", "300ms", "--lock-poll", "50ms")...); code != 3 {
			t.Fatalf("exit %d, want 3: %s", code, a.stderr.String())
		}
		if !strings.Contains(a.stderr.String(), "waiting for the apply lock") || !strings.Contains(a.stderr.String(), `https://evil.example/loginx\n::warning::pwned`) || !strings.Contains(a.stderr.String(), "(unverified)") {
			t.Errorf("stderr: %s", a.stderr.String())
		}
		assertHygienic(t, a)
	})
	t.Run("cleanup held lock", func(t *testing.T) {
		t.Parallel()
		store, s := memStore()
		a := newTestApp(t, store)
		a.actions("pull_request", "pull_request_closed_merged.json")
		cleanuptest.Production(t, s)
		st := cleanuptest.Stack(t, s, false, true, false)
		key := cleanuptest.SeededPR(t, s, st, 42, 0)
		info := applylock.LockInfo{ID: "1b6c" + inject, Operation: inject, Who: inject}
		if err := s.Table.PutItem(context.Background(), storage.Item{storage.KeyAttr: statekey.LockItemID("acme-state", key), "Info": string(info.Marshal())}, storage.Condition{}); err != nil {
			t.Fatal(err)
		}
		code := a.run("cleanup", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--dynamodb-table", "tf-locks", "--lock-timeout", "1s")
		if code != 3 || !strings.Contains(a.stderr.String(), `x\n::warning::pwned`) {
			t.Fatalf("exit %d, want 3: %s", code, a.stderr.String())
		}
		assertHygienic(t, a)
	})
}
