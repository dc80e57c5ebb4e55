package applylock

import (
	"context"
	"regexp"
	"sync"
	"time"
)

// gitFetchEvery bounds how often one command fetches; gitFetchTimeout
// bounds one fetch.
const (
	gitFetchEvery   = 15 * time.Second
	gitFetchTimeout = 30 * time.Second
)

// branchName is what FetchingGitComparer passes to git as a branch.
var branchName = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._/-]*$`)

// FetchingGitComparer is GitComparer for a checkout that may not know the
// newest commits: a job checked out before later merges (an older waiter
// comparing itself with a newer one, or with the ledger). When a question
// fails, it fetches branch (the default branch) from origin into
// origin/<branch>, at most once per gitFetchEvery, and asks again. Without
// a usable branch name it is GitComparer.
func FetchingGitComparer(dir, branch string) Comparer {
	if !branchName.MatchString(branch) {
		return GitComparer(dir)
	}
	return &fetchingGit{g: gitComparer{dir: dir}, branch: branch}
}

type fetchingGit struct {
	g      gitComparer
	branch string
	mu     sync.Mutex
	last   time.Time
}

func (f *fetchingGit) Name() string { return f.g.Name() }

func (f *fetchingGit) Compare(ctx context.Context, base, head string) (Relation, error) {
	r, err := f.g.Compare(ctx, base, head)
	if err != nil && f.fetch(ctx) {
		return f.g.Compare(ctx, base, head)
	}
	return r, err
}

func (f *fetchingGit) OnBranch(ctx context.Context, branch, sha string) (bool, error) {
	ok, err := f.g.OnBranch(ctx, branch, sha)
	if (err != nil || !ok) && branch == f.branch && f.fetch(ctx) {
		return f.g.OnBranch(ctx, branch, sha)
	}
	return ok, err
}

// fetch updates origin/<branch>; false when it did not (too soon, or it
// failed: the first answer stands).
func (f *fetchingGit) fetch(ctx context.Context) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.last.IsZero() && time.Since(f.last) < gitFetchEvery {
		return false
	}
	f.last = time.Now()
	ctx, cancel := context.WithTimeout(ctx, gitFetchTimeout)
	defer cancel()
	_, err := f.g.git(ctx, "fetch", "-q", "--no-tags", "origin", "+refs/heads/"+f.branch+":refs/remotes/origin/"+f.branch)
	return err == nil
}
