package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestLockSkipsWhileWaitingOnceNewerApplyStarted: while commit C's run
// 103 holds the apply lock and the ledger says C's apply started, the
// merge of A (PR 41, contained in C) waits, then skips without the lock:
// exit 0, superseded=true, and its step summary and sticky comment name C
// and run 103. With coalesce: false it waits for the lock and times out.
func TestLockSkipsWhileWaitingOnceNewerApplyStarted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	a := newTestApp(t, Store{Bucket: bucket, Table: table})
	fake, shaA, _, shaC := a.mainOnGitHub(t)
	fake.SetPullsForCommit(shaA, githubfake.Pull{Number: 41, State: "closed", Merged: true, MergeCommitSHA: shaA})

	const key = "app/terraform.tfstate"
	run103 := "https://github.com/acme/infra/actions/runs/103"
	store := applylock.NewDynamoDBLockStore(table, statekey.ApplyLockItemID("acme-state", key))
	holder := applylock.NewApplyLock(store,
		applylock.Holder{Run: applylock.Run{RunURL: run103}, SHA: shaC} /* no run ID: no liveness call */, applylock.LockOptions{Lease: time.Hour})
	if err := holder.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	ledger := applylock.NewLedger(bucket, table, "dynamodb", key)
	if _, err := ledger.Write(ctx, applylock.LedgerRecord{}, applylock.LedgerEntry{SHA: shaC, Run: applylock.Run{Repository: "acme/infra", RunID: "103", RunURL: run103}, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	args := []string{"lock", "--bucket", "acme-state", "--key", key, "--dynamodb-table", "tf-locks", "--comment", "--lock-timeout", "3s", "--lock-poll", "50ms"}

	a.push(shaA, "101")
	if code := a.run(append(args, "--coalesce=false")...); code != 3 {
		t.Fatalf("coalesce: false: exit %d, want 3 (timed out behind C): %s", code, a.stderr.String())
	}

	a.push(shaA, "101")
	if code := a.run(args...); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if out := a.file("github_output"); !strings.Contains(out, "superseded<<") || !strings.Contains(out, "\ntrue\n") || strings.Contains(out, "lock-id<<") {
		t.Fatalf("outputs %s", out)
	}
	if s := a.file("github_step_summary"); !strings.Contains(s, "superseded by") || !strings.Contains(s, shaC[:7]) || !strings.Contains(s, run103) {
		t.Fatalf("summary does not name C and run 103: %s", s)
	}
	if cs := fake.Comments(41); len(cs) != 1 || !strings.Contains(cs[0].Body, "**skipped**") || !strings.Contains(cs[0].Body, shaC[:7]) || !strings.Contains(cs[0].Body, run103) {
		t.Fatalf("PR 41 comments: %+v", cs)
	}
	if rec, _ := store.Read(ctx); !strings.Contains(string(rec.Body), shaC) {
		t.Fatal("C no longer holds the lock")
	}
}

// TestCoalesceWaiterLivenessOnTheAppClock: commit C's waiter announced
// itself and went silent. Waiter liveness is timed on the App's clock (a
// fake here): C's entry goes stale after its lease, so A contends again
// and takes the lock once its holder leaves at 30 s. Timed on any other
// clock, the silent entry would look live for the whole (fake) wait and
// A would time out (exit 3) deferring to it.
func TestCoalesceWaiterLivenessOnTheAppClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: bucket})
	clk := clocktest.New()
	a.clock = clk
	_, shaA, shaB, shaC := a.mainOnGitHub(t)

	const key = "app/terraform.tfstate"
	holder := applylock.NewApplyLock(applylock.NewS3LockStore(bucket, statekey.ApplyLockKey(key)),
		applylock.Holder{SHA: shaB} /* no run ID: no liveness call */, applylock.LockOptions{Lease: time.Hour, Clock: clk})
	if err := holder.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	clk.When(clk.Now().Add(30*time.Second), func() {
		if err := holder.Release(ctx); err != nil {
			t.Error(err)
		}
	})
	silent := `{"waiters":[{"id":"silent","sha":"` + shaC + `","repository":"acme/infra","run_id":"103","since":"` + clk.Now().Format(time.RFC3339) + `","renewed":"` + clk.Now().Format(time.RFC3339) + `","rvn":"r1","lease":"10s"}]}`
	if _, err := applylock.NewWaitersStore(bucket, nil, "s3", key).Create(ctx, []byte(silent)); err != nil {
		t.Fatal(err)
	}

	a.push(shaA, "101")
	if code := a.run("lock", "--bucket", "acme-state", "--key", key, "--lock-timeout", "45s", "--lock-poll", "1s"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if !strings.Contains(a.stderr.String(), "is contained in commit "+shaC[:7]) {
		t.Fatalf("did not defer to C first: %s", a.stderr.String())
	}
	if out := a.file("github_output"); !strings.Contains(out, "lock-id<<") || !strings.Contains(out, "\nfalse\n") {
		t.Fatalf("outputs %s", out)
	}
}
