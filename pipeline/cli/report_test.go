package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

const fakeToken = "ghs_0123456789abcdefFAKE"

// withGitHub points the app at a GitHub API fake with a token.
func (a *testApp) withGitHub(t *testing.T) *githubfake.Server {
	fake := githubfake.New(t, "acme/infra")
	fake.Token = fakeToken
	a.env["GITHUB_API_URL"] = fake.URL
	a.env["INPUT_GITHUB-TOKEN"] = fakeToken
	return fake
}

// invoke prepares an invocation as a lock or run command would get it, so
// the helpers those commands call are driven with real settings, event and
// reporter.
func (a *testApp) invoke(args ...string) *invocation {
	a.t.Helper()
	a.stdout.Reset()
	a.stderr.Reset()
	app := a.app()
	inv, err := app.prepare(lockCommand, args, runner.New(app.Env, app.Stderr), ci.Once(app.Env, app.ReadFile))
	if err != nil {
		a.t.Fatal(err)
	}
	return inv
}

// push makes the event a push of sha to main in run.
func (a *testApp) push(sha, run string) {
	a.t.Helper()
	path := filepath.Join(a.dir, "push-"+run+".json")
	payload := `{"ref":"refs/heads/main","after":"` + sha + `","repository":{"full_name":"acme/infra","default_branch":"main"}}`
	if err := os.WriteFile(path, []byte(payload), 0o644); err != nil {
		a.t.Fatal(err)
	}
	a.actions("push", "push.json")
	a.env["GITHUB_EVENT_PATH"], a.env["GITHUB_SHA"], a.env["GITHUB_RUN_ID"] = path, sha, run
	for _, f := range []string{"github_output", "github_step_summary"} {
		_ = os.Remove(filepath.Join(a.dir, f))
	}
}

// commits makes a repository with main A < B < C in dir.
func commits(t *testing.T, dir string) (a, b, c string) {
	testenv.Tool(t, "git")
	testenv.Git(t, dir, "init", "-q", "-b", "main")
	var shas []string
	for _, msg := range []string{"A", "B", "C"} {
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("# "+msg+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.Git(t, dir, "add", "main.tf")
		testenv.Git(t, dir, "commit", "-q", "-m", msg)
		shas = append(shas, testenv.Git(t, dir, "rev-parse", "HEAD"))
	}
	return shas[0], shas[1], shas[2]
}

// mainOnGitHub makes main A < B < C in a.dir and gives the GitHub fake the
// same history, C at the head of main.
func (a *testApp) mainOnGitHub(t *testing.T) (fake *githubfake.Server, shaA, shaB, shaC string) {
	shaA, shaB, shaC = commits(t, a.dir)
	fake = a.withGitHub(t)
	fake.AddCommit(shaA)
	fake.AddCommit(shaB, shaA)
	fake.AddCommit(shaC, shaB)
	fake.SetBranch("main", shaC)
	return fake, shaA, shaB, shaC
}

// TestSupersededOutOfOrder drives the helper lock and run call under the
// apply lock: merges A < B < C reach it in the order C, A, B. C goes on
// (superseded=false); A and B are skipped with superseded=true and a
// warning naming C and its run; the merged PR's comment says so.
func TestSupersededOutOfOrder(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"github", "git"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
			a := newTestApp(t, Store{Bucket: bucket, Table: table})
			fake, shaA, shaB, shaC := a.mainOnGitHub(t)
			fake.SetPullsForCommit(shaA, githubfake.Pull{Number: 41, State: "closed", Merged: true, MergeCommitSHA: shaA})
			if via == "git" {
				delete(a.env, "INPUT_GITHUB-TOKEN")
			}
			flags := []string{"--bucket", "acme-state", "--key", "app/terraform.tfstate", "--dynamodb-table", "tf-locks"}

			for _, step := range []struct {
				sha, run string
				want     bool
			}{{shaC, "103", false}, {shaA, "101", true}, {shaB, "102", true}} {
				a.push(step.sha, step.run)
				args := flags
				if via == "github" && step.want && step.run == "101" {
					args = append(append([]string{}, flags...), "--comment")
				}
				inv := a.invoke(args...)
				v, err := inv.checkSupersede(context.Background(), assumeHeld{}, Store{Bucket: bucket, Table: table})
				if err != nil {
					t.Fatalf("run %s: %v", step.run, err)
				}
				if v.Superseded != step.want {
					t.Fatalf("run %s: superseded %v, want %v (stderr %s)", step.run, v.Superseded, step.want, a.stderr.String())
				}
				out := a.file("github_output")
				want := "superseded<<"
				if !strings.Contains(out, want) || !strings.Contains(out, "\n"+map[bool]string{true: "true", false: "false"}[step.want]+"\n") {
					t.Fatalf("run %s: outputs %q", step.run, out)
				}
				if step.want {
					warn := a.stderr.String()
					if !strings.Contains(warn, "::warning::") || !strings.Contains(warn, ci.ShortSHA(shaC)) || !strings.Contains(warn, "/actions/runs/103") {
						t.Fatalf("run %s: warning %q", step.run, warn)
					}
					inv.reportApply(context.Background(), "lock", inv.applyReport(v))
					if s := a.file("github_step_summary"); !strings.Contains(s, "superseded by [`"+ci.ShortSHA(shaC)+"`]") {
						t.Fatalf("run %s: summary %s", step.run, s)
					}
				}
			}
			item, err := table.GetItem(context.Background(), "acme-state/app/terraform.tfstate.prstate-ledger")
			if err != nil || !strings.Contains(item["Ledger"], shaC) || !strings.Contains(item["Ledger"], "/actions/runs/103") {
				t.Fatalf("ledger: %v, %v", item, err)
			}
			compares := fake.Requests(githubfake.RouteCompare)
			if via == "github" {
				// C met an empty ledger; A and B asked once each, and once
				// more whether C is on main. A's job found PR 41 from its
				// commit and commented there.
				cs := fake.Comments(41)
				if compares != 4 || len(cs) != 1 || !strings.Contains(cs[0].Body, "**skipped**") || fake.Requests(githubfake.RouteCommitPulls) != 1 {
					t.Fatalf("compares %d, comments %+v", compares, cs)
				}
			} else if compares != 0 {
				t.Fatalf("asked GitHub without a token: %d", compares)
			}
			if strings.Contains(a.stderr.String(), fakeToken) && !strings.Contains(a.stderr.String(), "::add-mask::"+fakeToken) {
				t.Fatalf("token printed: %s", a.stderr.String())
			}
		})
	}
}

func TestSupersededDivergedIsAnErrorWithTheNextStep(t *testing.T) {
	t.Parallel()
	bucket := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: bucket})
	shaA, _, shaC := commits(t, a.dir)
	testenv.Git(t, a.dir, "checkout", "-q", "-b", "hotfix", shaA)
	if err := os.WriteFile(filepath.Join(a.dir, "hotfix.tf"), []byte("# D\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, a.dir, "add", "hotfix.tf")
	testenv.Git(t, a.dir, "commit", "-q", "-m", "D")
	shaD := testenv.Git(t, a.dir, "rev-parse", "HEAD")
	flags := []string{"--bucket", "acme-state", "--key", "app/terraform.tfstate"}
	a.push(shaC, "1")
	if v, err := a.invoke(flags...).checkSupersede(context.Background(), assumeHeld{}, Store{Bucket: bucket}); err != nil || v.Superseded {
		t.Fatalf("C: %v, %v", v.Superseded, err)
	}
	a.push(shaD, "2")
	_, err := a.invoke(flags...).checkSupersede(context.Background(), assumeHeld{}, Store{Bucket: bucket})
	if err == nil || !strings.Contains(err.Error(), "--allow-diverged") || !strings.Contains(err.Error(), ci.ShortSHA(shaC)) {
		t.Fatalf("D: %v", err)
	}
	if v, err := a.invoke(append(flags, "--allow-diverged")...).checkSupersede(context.Background(), assumeHeld{}, Store{Bucket: bucket}); err != nil || v.Superseded {
		t.Fatalf("D allowed: %v, %v", v.Superseded, err)
	}
	if !strings.Contains(a.stderr.String(), "::warning::") || !strings.Contains(a.stderr.String(), "allow-diverged is set") {
		t.Fatalf("no warning for an allowed divergence: %s", a.stderr.String())
	}
	obj, err := bucket.GetObject(context.Background(), "app/terraform.tfstate.prstate-ledger.json")
	if err != nil || !strings.Contains(string(obj.Body), shaD) {
		t.Fatalf("S3 ledger: %s, %v", obj.Body, err)
	}
}

func TestPlanCommentCreatedOnceThenEdited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: bucket})
	fake := a.withGitHub(t)
	a.actions("pull_request", "pull_request_opened.json")
	a.env["GITHUB_API_URL"] = fake.URL
	flags := []string{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--comment"}
	if code := a.run(flags...); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	// Production gets a state; the next plan seeds from it and says so.
	state := `{"version":4,"terraform_version":"1.11.4","serial":7,"lineage":"l-1","outputs":{},"resources":[]}`
	if _, err := bucket.PutObject(ctx, "app/terraform.tfstate", []byte(state), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if code := a.run(append(flags, "--seed", "production")...); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	cs := fake.Comments(42)
	if len(cs) != 1 || fake.Requests(githubfake.RouteCreateComment) != 1 || fake.Requests(githubfake.RouteEditComment) != 1 {
		t.Fatalf("comments %d, creates %d, edits %d", len(cs), fake.Requests(githubfake.RouteCreateComment), fake.Requests(githubfake.RouteEditComment))
	}
	body := cs[0].Body
	for _, want := range []string{"<!-- prstate:.:app/terraform.tfstate -->", "`app/pr-42/terraform.tfstate`", "Seeded from production `app/terraform.tfstate` at serial 7", "[run 9001](https://github.com/acme/infra/actions/runs/9001)"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if s := a.file("github_step_summary"); !strings.Contains(s, "seeded from `app/terraform.tfstate` serial 7") {
		t.Errorf("summary:\n%s", s)
	}
	// Without --comment, GitHub is not called.
	fake.ResetRequests()
	if code := a.run(flags[:len(flags)-1]...); code != 0 || fake.Requests(githubfake.RouteListComments) != 0 {
		t.Fatalf("exit %d, list requests %d", code, fake.Requests(githubfake.RouteListComments))
	}
}

// Cleanup updates the same sticky comment: its section says the PR state
// was removed (one version and the digest item terraform left; not the
// lock item cleanup took itself), and the plan section stays.
func TestCleanupCommentsOnThePR(t *testing.T) {
	t.Parallel()
	bucket, table := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	a := newTestApp(t, Store{Bucket: bucket, Table: table})
	fake := a.withGitHub(t)
	a.env["GITHUB_API_URL"] = fake.URL
	flags := []string{"--bucket", "acme-state", "--key", "app/terraform.tfstate", "--dynamodb-table", "tf-locks", "--comment"}
	a.actions("pull_request", "pull_request_opened.json")
	if code := a.run(append([]string{"plan"}, flags...)...); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, a.stderr.String())
	}
	state := `{"version":4,"terraform_version":"1.11.4","serial":1,"lineage":"l-1","outputs":{},"resources":[]}`
	if _, err := bucket.PutObject(context.Background(), "app/pr-42/terraform.tfstate", []byte(state), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := table.PutItem(context.Background(), storage.Item{storage.KeyAttr: "acme-state/app/pr-42/terraform.tfstate-md5", "Digest": "0123456789abcdef0123456789abcdef"}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
	a.actions("pull_request", "pull_request_closed_merged.json")
	if code := a.run(append([]string{"cleanup"}, flags...)...); code != 0 {
		t.Fatalf("cleanup: exit %d: %s", code, a.stderr.String())
	}
	cs := fake.Comments(42)
	if len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	for _, want := range []string{"**Cleanup**: the PR state `app/pr-42/terraform.tfstate` was removed", "`app/pr-42/terraform.tfstate`", "(2 objects, versions and lock items)"} {
		if !strings.Contains(cs[0].Body, want) {
			t.Errorf("comment lacks %q:\n%s", want, cs[0].Body)
		}
	}
	if !strings.Contains(cs[0].Body, "**Plans** of this pull request use") {
		t.Errorf("the plan section is gone:\n%s", cs[0].Body)
	}
}

func TestPlanCommentFailureIsAWarning(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	fake := a.withGitHub(t)
	a.actions("pull_request", "pull_request_opened.json")
	a.env["GITHUB_API_URL"] = fake.URL
	fake.Fail(githubfake.RouteListComments, http.StatusForbidden)
	if code := a.run("plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--comment"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if e := a.stderr.String(); !strings.Contains(e, "::warning::failed to update the pull request comment") || !strings.Contains(e, "pull-requests: write") {
		t.Fatalf("stderr: %s", e)
	}
	if a.stdout.String() != "app/pr-42/terraform.tfstate\n" {
		t.Fatalf("stdout %q", a.stdout.String())
	}
	// No token at all: a warning naming the input.
	delete(a.env, "INPUT_GITHUB-TOKEN")
	if code := a.run("plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--comment"); code != 0 || !strings.Contains(a.stderr.String(), "needs github-token") {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
}

func TestKeyCommandStepSummary(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	a.actions("pull_request", "pull_request_synchronize.json")
	if code := a.run("key", "--bucket", "acme-state", "--key", "app/terraform.tfstate"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	want := "| `.` | `app/pr-42/terraform.tfstate` | - | PR key of #42 |"
	if s := a.file("github_step_summary"); !strings.Contains(s, "### prstate key") || !strings.Contains(s, want) {
		t.Fatalf("summary lacks %q:\n%s", want, s)
	}
}
