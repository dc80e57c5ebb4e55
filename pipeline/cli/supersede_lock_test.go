package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestLockAndRunSkipSupersededCommits: merges A < B < C reach `prstate
// lock` (and `prstate run`) in the order C, A, B. C holds the lock (and
// runs its command); A and B exit 0 with superseded=true, release the lock
// at once and run nothing; the merged PR's comment says so.
func TestLockAndRunSkipSupersededCommits(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"lock", "run"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
			a := newTestApp(t, Store{Bucket: bucket, Table: table})
			fake, shaA, shaB, shaC := a.mainOnGitHub(t)
			fake.SetPullsForCommit(shaA, githubfake.Pull{Number: 41, State: "closed", Merged: true, MergeCommitSHA: shaA})
			for _, step := range []struct {
				sha, run   string
				superseded bool
			}{{shaC, "103", false}, {shaA, "101", true}, {shaB, "102", true}} {
				a.push(step.sha, step.run)
				args := []string{command, "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--dynamodb-table", "tf-locks", "--comment", "--lock-timeout", "5s"}
				if command == "run" {
					args = append(args, "--", "sh", "-c", "echo applied "+step.run)
				}
				if code := a.run(args...); code != 0 {
					t.Fatalf("%s: exit %d: %s", step.run, code, a.stderr.String())
				}
				out := a.file("github_output")
				if !strings.Contains(out, "superseded<<") || !strings.Contains(out, "\n"+map[bool]string{true: "true", false: "false"}[step.superseded]+"\n") {
					t.Fatalf("%s: outputs %s", step.run, out)
				}
				ran := strings.Contains(a.stdout.String(), "applied "+step.run)
				if command == "run" && ran == step.superseded {
					t.Fatalf("%s: command ran %v, superseded %v", step.run, ran, step.superseded)
				}
				if step.superseded && strings.Contains(out, "lock-id<<") {
					t.Fatalf("%s: a superseded run kept the lock: %s", step.run, out)
				}
				if s := a.file("github_step_summary"); step.superseded && !strings.Contains(s, "superseded by") {
					t.Fatalf("%s: summary %s", step.run, s)
				}
				if command == "lock" && !step.superseded {
					// The post step would release C's lock; do it now.
					if code := a.run("unlock", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--dynamodb-table", "tf-locks", "--lock-id", strings.TrimSpace(a.stdout.String())); code != 0 {
						t.Fatalf("unlock: %d %s", code, a.stderr.String())
					}
				}
			}
			if _, err := table.GetItem(context.Background(), "acme-state/app/terraform.tfstate.prstate-apply"); err == nil {
				t.Fatal("the apply lock is still held")
			}
			if cs := fake.Comments(41); len(cs) != 1 || !strings.Contains(cs[0].Body, "**skipped**") {
				t.Fatalf("PR 41 comments: %+v", cs)
			}
		})
	}
}

// assumeHeld runs writes under the apply lock as if it were held: for
// tests of what the supersede check decides, not of the lock.
type assumeHeld struct{}

func (assumeHeld) WriteHeld(ctx context.Context, _ string, write func(context.Context, *storage.Check) error) error {
	return write(ctx, nil)
}

// checkSupersede runs the check under the apply lock of the main stack
// in st (applylock.CheckSupersede) with the invocation's settings, as
// lock and run do right after acquiring.
func (inv *invocation) checkSupersede(ctx context.Context, lock applylock.Held, st Store) (applylock.Verdict, error) {
	return applylock.CheckSupersede(ctx, lock, inv.applyDeps(st), applylock.Options{Event: inv.ev, AllowDiverged: inv.cfg.AllowDiverged})
}
