package applylock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/github"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// gitRepo is a repository made in a temporary directory: main A < B < C,
// and a branch D off A that diverged from B and C.
type gitRepo struct {
	dir        string
	a, b, c, d string
}

func newGitRepo(t *testing.T) gitRepo {
	t.Helper()
	testenv.Tool(t, "git")
	r := gitRepo{dir: t.TempDir()}
	testenv.Git(t, r.dir, "init", "-q", "-b", "main")
	commit := func(msg string) string {
		if err := os.WriteFile(filepath.Join(r.dir, "main.tf"), []byte("# "+msg+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.Git(t, r.dir, "add", "main.tf")
		testenv.Git(t, r.dir, "commit", "-q", "-m", msg)
		return testenv.Git(t, r.dir, "rev-parse", "HEAD")
	}
	r.a, r.b, r.c = commit("A"), commit("B"), commit("C")
	testenv.Git(t, r.dir, "checkout", "-q", "-b", "other", r.a)
	r.d = commit("D")
	testenv.Git(t, r.dir, "checkout", "-q", "main")
	return r
}

// fakeFor mirrors the repository's history in a GitHub API fake.
func fakeFor(t *testing.T, r gitRepo) *githubfake.Server {
	fake := githubfake.New(t, "acme/infra")
	fake.Token = "ghs_test"
	fake.AddCommit(r.a)
	fake.AddCommit(r.b, r.a)
	fake.AddCommit(r.c, r.b)
	fake.AddCommit(r.d, r.a)
	fake.SetBranch("main", r.c)
	return fake
}

func githubComparerFor(t *testing.T, fake *githubfake.Server) Comparer {
	c, err := github.New(fake.Token, fake.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return GitHubComparer(c, fake.Repo)
}

// abc is a commit no repository has.
var abc = strings.Repeat("abc0", 10)

func pushEvent(sha, run string) ci.Event {
	return ci.Event{Kind: ci.KindPush, SHA: sha, Ref: "refs/heads/main", DefaultBranch: "main", ServerURL: "https://github.com", Repository: "acme/infra", RunID: run, RunURL: "https://github.com/acme/infra/actions/runs/" + run}
}

// TestSupersedeOutOfOrder: three merges A < B < C whose jobs reach the
// check in the order C, A, B. C goes on and is recorded; A and B are
// superseded, whichever way commits are compared.
func TestSupersedeOutOfOrder(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	fake := fakeFor(t, repo)
	comparers := map[string]Comparer{
		"github": githubComparerFor(t, fake),
		"git":    GitComparer(repo.dir),
	}
	for name, cmp := range comparers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ledger := NewLedger(memstore.NewBucket("acme-state"), nil, "s3", "app/terraform.tfstate")
			now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
			before := fake.Requests(githubfake.RouteCompare)
			var got []string
			for i, step := range []struct{ sha, run string }{{repo.c, "3"}, {repo.a, "1"}, {repo.b, "2"}} {
				ev := pushEvent(step.sha, step.run)
				v, err := Supersede(ctx, ledger, NewCommits(cmp), ev, false)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if v.Superseded {
					got = append(got, "skip "+step.run)
					if v.Last.SHA != repo.c || v.Last.RunID != "3" || !strings.Contains(v.SupersededMessage(), ci.ShortSHA(repo.c)) || !strings.Contains(v.SupersededMessage(), "/runs/3") {
						t.Errorf("step %d: superseded by %+v, message %q", i, v.Last, v.SupersededMessage())
					}
					if _, err := RecordApply(ctx, assumeHeld{}, ledger, v, ev, now); err == nil {
						t.Errorf("step %d: recorded a superseded commit", i)
					}
					continue
				}
				got = append(got, "apply "+step.run)
				if _, err := RecordApply(ctx, assumeHeld{}, ledger, v, ev, now.Add(time.Duration(i)*time.Minute)); err != nil {
					t.Fatalf("step %d: record: %v", i, err)
				}
			}
			if want := "apply 3, skip 1, skip 2"; strings.Join(got, ", ") != want {
				t.Fatalf("got %s, want %s", strings.Join(got, ", "), want)
			}
			rec, _ := ledger.Read(ctx)
			if rec.Entry.SHA != repo.c || rec.Entry.RunURL != "https://github.com/acme/infra/actions/runs/3" || !rec.Entry.Started.Equal(now) {
				t.Fatalf("ledger: %+v", rec.Entry)
			}
			// C met an empty ledger; A and B were compared once each, and
			// C was checked to be on main before each skip.
			if n := fake.Requests(githubfake.RouteCompare) - before; name == "github" && n != 4 {
				t.Fatalf("compare requests: %d, want 4", n)
			}
		})
	}
}

func TestSupersedeRelations(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	fake := fakeFor(t, repo)
	for name, cmp := range map[string]Comparer{"github": githubComparerFor(t, fake), "git": GitComparer(repo.dir)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			start := func(sha string) Ledger {
				l := NewLedger(memstore.NewBucket("acme-state"), memstore.NewTable("locks"), "dynamodb", "app/terraform.tfstate")
				if _, err := l.Write(ctx, LedgerRecord{}, LedgerEntry{SHA: sha, Run: Run{RunURL: "https://github.com/acme/infra/actions/runs/7"}}); err != nil {
					t.Fatal(err)
				}
				return l
			}
			// ahead: go on, and the record replaces the ledger.
			l := start(repo.b)
			v, err := Supersede(ctx, l, NewCommits(cmp), pushEvent(repo.c, "8"), false)
			if err != nil || v.Superseded || v.Relation != RelationAhead || v.Via != cmp.Name() {
				t.Fatalf("ahead: %+v, %v", v, err)
			}
			if _, err := RecordApply(ctx, assumeHeld{}, l, v, pushEvent(repo.c, "8"), time.Now()); err != nil {
				t.Fatal(err)
			}
			// identical (a re-run): go on without asking anyone.
			before := fake.Requests(githubfake.RouteCompare)
			v, err = Supersede(ctx, l, NewCommits(cmp), pushEvent(repo.c, "8"), false)
			if err != nil || v.Superseded || v.Relation != RelationIdentical || fake.Requests(githubfake.RouteCompare) != before {
				t.Fatalf("identical: %+v, %v", v, err)
			}
			// diverged: fail with the next step, unless allowed.
			_, err = Supersede(ctx, l, NewCommits(cmp), pushEvent(repo.d, "9"), false)
			var de *DivergedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "allow-diverged: true") || !strings.Contains(err.Error(), ci.ShortSHA(repo.c)) {
				t.Fatalf("diverged: %v", err)
			}
			v, err = Supersede(ctx, l, NewCommits(cmp), pushEvent(repo.d, "9"), true)
			if err != nil || v.Superseded || v.Relation != RelationDiverged {
				t.Fatalf("diverged allowed: %+v, %v", v, err)
			}
			// A writer that read before us loses loudly.
			stale, _ := Supersede(ctx, l, NewCommits(cmp), pushEvent(repo.d, "9"), true)
			if _, err := RecordApply(ctx, assumeHeld{}, l, v, pushEvent(repo.d, "9"), time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := RecordApply(ctx, assumeHeld{}, l, stale, pushEvent(repo.d, "10"), time.Now()); !errors.Is(err, ErrLedgerChanged) || !strings.Contains(err.Error(), "overlapped") {
				t.Fatalf("stale record: %v", err)
			}
		})
	}
}

func TestSupersedeEmptyLedgerAndNoCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewLedger(memstore.NewBucket("acme-state"), nil, "s3", "app/terraform.tfstate")
	never := GitComparer("/nonexistent") // would fail if asked
	v, err := Supersede(ctx, l, NewCommits(never), pushEvent(abc, "1"), false)
	if err != nil || v.Superseded || v.Relation != "" {
		t.Fatalf("empty ledger: %+v, %v", v, err)
	}
	if _, err := RecordApply(ctx, assumeHeld{}, l, v, pushEvent(abc, "1"), time.Now()); err != nil {
		t.Fatal(err)
	}
	v, err = Supersede(ctx, l, NewCommits(never), ci.Event{Kind: ci.KindManual}, false)
	if err != nil || v.Superseded {
		t.Fatalf("no commit: %+v, %v", v, err)
	}
	if e, err := RecordApply(ctx, assumeHeld{}, l, v, ci.Event{Kind: ci.KindManual}, time.Now()); err != nil || e.SHA != "" {
		t.Fatalf("recorded a run without a commit: %+v, %v", e, err)
	}
	if rec, _ := l.Read(ctx); rec.Entry.SHA != abc {
		t.Fatalf("ledger: %+v", rec.Entry)
	}
}

func TestGitComparerShallowClone(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	ctx := context.Background()
	clone := func(depth string) string {
		dst := filepath.Join(t.TempDir(), "clone")
		testenv.Git(t, repo.dir, "clone", "-q", "--depth", depth, "--branch", "main", "file://"+repo.dir, dst)
		return dst
	}
	// actions/checkout's default: one commit. The ledger's commit is missing.
	_, err := GitComparer(clone("1")).Compare(ctx, repo.a, repo.c)
	if err == nil || !strings.Contains(err.Error(), "shallow clone") || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Fatalf("depth 1: %v", err)
	}
	// With B and C fetched, B < C is still provable.
	if r, err := GitComparer(clone("2")).Compare(ctx, repo.b, repo.c); err != nil || r != RelationAhead {
		t.Fatalf("depth 2, B..C: %v, %v", r, err)
	}
	if r, err := GitComparer(clone("2")).Compare(ctx, repo.c, repo.b); err != nil || r != RelationBehind {
		t.Fatalf("depth 2, C..B: %v, %v", r, err)
	}
	// Not a repository at all.
	if _, err := GitComparer(t.TempDir()).Compare(ctx, repo.a, repo.c); err == nil || !strings.Contains(err.Error(), "github-token") {
		t.Fatalf("no repository: %v", err)
	}
}

// TestCommitsFallsBack: when GitHub cannot answer (the ledger's
// commit is unknown there), git in the checkout answers.
func TestCommitsFallsBack(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	fake := githubfake.New(t, "acme/infra") // knows no commits: 404
	cmp := NewCommits(githubComparerFor(t, fake), GitComparer(repo.dir))
	l := NewLedger(memstore.NewBucket("acme-state"), nil, "s3", "app/terraform.tfstate")
	ctx := context.Background()
	if _, err := l.Write(ctx, LedgerRecord{}, LedgerEntry{SHA: repo.c}); err != nil {
		t.Fatal(err)
	}
	v, err := Supersede(ctx, l, cmp, pushEvent(repo.b, "2"), false)
	if err != nil || !v.Superseded || v.Via != "git merge-base" || fake.Requests(githubfake.RouteCompare) != 2 {
		t.Fatalf("fallback: %+v, %v (compare requests %d)", v, err, fake.Requests(githubfake.RouteCompare))
	}
	_, err = Supersede(ctx, l, NewCommits(githubComparerFor(t, fake), GitComparer(t.TempDir())), pushEvent(repo.b, "2"), false)
	if err == nil || !strings.Contains(err.Error(), "GitHub compare API") || !strings.Contains(err.Error(), "git merge-base") {
		t.Fatalf("both failing: %v", err)
	}
}
