package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
)

// prOnThreeStacks makes a.dir a git repository of the three stacks
// (commit base on main) and a pull request branch whose one commit (head)
// edits modules/inner, which modules/shared calls, which stacks/app and
// stacks/db call; the event is that pull request's.
func prOnThreeStacks(t *testing.T, a *testApp) (base, head string) {
	t.Helper()
	writeThreeStacks(t, a.dir)
	testenv.Git(t, a.dir, "init", "-q", "-b", "main")
	testenv.Git(t, a.dir, "add", "-A")
	testenv.Git(t, a.dir, "commit", "-q", "-m", "base")
	base = testenv.Git(t, a.dir, "rev-parse", "HEAD")
	testenv.Git(t, a.dir, "checkout", "-q", "-b", "pr")
	if err := os.WriteFile(filepath.Join(a.dir, "modules/inner/main.tf"), []byte("variable \"x\" {\n  default = 2\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, a.dir, "commit", "-q", "-am", "inner")
	head = testenv.Git(t, a.dir, "rev-parse", "HEAD")
	a.actions("pull_request", "pull_request_synchronize.json")
	payload := `{"action":"synchronize","number":42,"pull_request":{"number":42,"head":{"sha":"` + head + `"},"base":{"sha":"` + base + `"}},"repository":{"default_branch":"main"}}`
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	a.env["GITHUB_EVENT_PATH"] = p
	return base, head
}

func stacksOut(t *testing.T, a *testApp, args ...string) []string {
	t.Helper()
	if code := a.run(append([]string{"stacks", "--json"}, args...)...); code != 0 {
		t.Fatalf("stacks %v: exit %d: %s", args, code, a.stderr.String())
	}
	var got []string
	if err := json.Unmarshal(a.stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, a.stdout.String())
	}
	return got
}

// TestStacksChangedFromGit: on a pull request that edits a module two
// stacks call (through another module), stacks lists the three stacks and
// stacks --changed the two that call it, from git diff base...head; the
// output stacks is the JSON list a matrix reads.
func TestStacksChangedFromGit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	prOnThreeStacks(t, a)
	if got, want := stacksOut(t, a), []string{"stacks/app", "stacks/db", "stacks/net"}; !slices.Equal(got, want) {
		t.Fatalf("stacks = %q, want %q", got, want)
	}
	got := stacksOut(t, a, "--changed")
	if want := []string{"stacks/app", "stacks/db"}; !slices.Equal(got, want) {
		t.Fatalf("stacks --changed = %q, want %q", got, want)
	}
	if out := a.file("github_output"); !strings.Contains(out, "stacks<<") || !strings.Contains(out, `["stacks/app","stacks/db"]`) {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	// A base git does not know is bad input, named.
	if code := a.run("stacks", "--changed", "--base", "0123456789012345678901234567890123456789"); code != 2 || !strings.Contains(a.stderr.String(), "fetch-depth: 0") {
		t.Fatalf("unknown base: exit %d: %s", code, a.stderr.String())
	}
}

// TestStacksChangedFromCompareAPI: with a token on GitHub, the files come
// from the compare API (one call), not git: the fake says the pull request
// changed stacks/net only.
func TestStacksChangedFromCompareAPI(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	base, head := prOnThreeStacks(t, a)
	fake := a.withGitHub(t)
	fake.AddCommit(base)
	fake.AddCommit(head, base)
	fake.SetCommitFiles(head, "stacks/net/main.tf", "README.md")
	if got, want := stacksOut(t, a, "--changed"), []string{"stacks/net"}; !slices.Equal(got, want) {
		t.Fatalf("stacks --changed = %q, want %q", got, want)
	}
	if n := fake.Requests(githubfake.RouteCompare); n != 1 {
		t.Fatalf("%d compare calls, want 1", n)
	}
	fake.SetCommitFiles(head, "modules/shared/main.tf")
	if got, want := stacksOut(t, a, "--changed"), []string{"stacks/app", "stacks/db"}; !slices.Equal(got, want) {
		t.Fatalf("stacks --changed = %q, want %q", got, want)
	}
}

// TestStacksChangedNeedsABase: outside a pull request or push, --changed
// without --base is exit 2, and so is a base git would read as an option
// or a range.
func TestStacksChangedNeedsABase(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	writeThreeStacks(t, a.dir)
	if code := a.run("stacks", "--changed"); code != 2 || !strings.Contains(a.stderr.String(), "needs the commit to compare with") {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	for _, base := range []string{"--output=/tmp/x", "main..HEAD", "HEAD~1"} {
		if code := a.run("stacks", "--changed", "--base="+base); code != 2 || !strings.Contains(a.stderr.String(), "invalid base") {
			t.Errorf("base %q: exit %d: %s", base, code, a.stderr.String())
		}
	}
}
