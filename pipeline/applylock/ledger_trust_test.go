package applylock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestForgedLedgerDoesNotSkipTheApply: a pull request job that can write
// the ledger names its own head commit P, a child of main's head C, with
// a run URL that carries workflow commands. C's apply is "behind" P, but
// P is not on main: the apply must not be skipped as superseded; it fails
// naming the record, with everything from the record escaped.
func TestForgedLedgerDoesNotSkipTheApply(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	testenv.Git(t, repo.dir, "checkout", "-q", "-b", "pr-42", repo.c)
	if err := os.WriteFile(filepath.Join(repo.dir, "main.tf"), []byte("# P\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, repo.dir, "commit", "-q", "-am", "P")
	p := testenv.Git(t, repo.dir, "rev-parse", "HEAD")
	testenv.Git(t, repo.dir, "checkout", "-q", "main")
	fake := fakeFor(t, repo)
	fake.AddCommit(p, repo.c)

	forged := LedgerEntry{SHA: p, Run: Run{Repository: "evil/fork\n::warning::pwned", RunURL: "https://evil.example/login\n::set-output name=x::y"}}
	for name, cmp := range map[string]Comparer{"github": githubComparerFor(t, fake), "git": GitComparer(repo.dir)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := NewLedger(memstore.NewBucket("acme-state"), nil, "s3", "app/terraform.tfstate")
			if _, err := l.Write(ctx, LedgerRecord{}, forged); err != nil {
				t.Fatal(err)
			}
			v, err := Supersede(ctx, l, NewCommits(cmp), pushEvent(repo.c, "9"), false)
			var ue *UntrustedLedgerError
			if !errors.As(err, &ue) || v.Superseded {
				t.Fatalf("forged ledger: %+v, %v; want an UntrustedLedgerError", v, err)
			}
			msg := err.Error()
			for _, want := range []string{l.Where(), ci.ShortSHA(p), "not on the default branch main", `https://evil.example/login\n::set-output name=x::y (unverified)`, `evil/fork\n::warning::pwned`} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message has a raw line break: %q", msg)
			}
			// Without the default branch in the event, nothing can be checked.
			ev := pushEvent(repo.c, "9")
			ev.DefaultBranch = ""
			if _, err := Supersede(ctx, l, NewCommits(cmp), ev, false); !errors.As(err, &ue) || !strings.Contains(err.Error(), "does not name the default branch") {
				t.Fatalf("no default branch: %v", err)
			}
		})
	}
}

// TestLedgerWithAnInvalidSHA: a record whose commit is not a SHA is never
// passed to git or the API, nor shown.
func TestLedgerWithAnInvalidSHA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memstore.NewBucket("acme-state")
	l := NewLedger(bucket, nil, "s3", "app/terraform.tfstate")
	if _, err := bucket.PutObject(ctx, "app/terraform.tfstate.prstate-ledger.json", []byte(`{"sha":"--upload-pack=touch /tmp/x\n::warning::x","started":"2026-01-02T03:04:05Z"}`), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := Supersede(ctx, l, NewCommits(GitComparer("/nonexistent")), pushEvent(abc, "1"), false)
	if err == nil || !strings.Contains(err.Error(), "(invalid)") || strings.Contains(err.Error(), "upload-pack") {
		t.Fatalf("invalid SHA: %v", err)
	}
}
