package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/statekey"
)

// comparer is the stack's one commit comparer for this command (the
// waiters' checks and the supersede check under the lock share its
// answers): GitHub's compare API when it can (a token, a GitHub
// repository), then git in the checkout. The action's image has no git:
// there (GITHUB_ACTIONS=true and no git on PATH) the compare API is the
// only source, and its error is the step's error.
func (inv *invocation) comparer(st statekey.Stack) *applylock.Commits {
	git := applylock.FetchingGitComparer(st.Dir, inv.ev.DefaultBranch)
	noGit := inv.app.Env("GITHUB_ACTIONS") == "true" && !onPath(inv.app.Env("PATH"), "git")
	const noGitWhy = "this runs in prstate's action image, which has no git: pass github-token (the default, github.token, needs contents: read) so the GitHub compare API answers"
	gitOnly := func() *applylock.Commits {
		if noGit {
			return applylock.NoCommits(noGitWhy)
		}
		return applylock.NewCommits(git)
	}
	if inv.ev.Repository == "" || strings.HasPrefix(inv.ev.Name, "gitlab:") || inv.cfg.GitHubToken == "" {
		return gitOnly()
	}
	api, err := inv.reportGitHub()
	if err != nil {
		inv.logf("supersede check: %v; using git", err)
		return gitOnly()
	}
	gh := applylock.GitHubComparer(api, inv.ev.Repository)
	if noGit {
		return applylock.NewCommits(gh)
	}
	return applylock.NewCommits(gh, git)
}

// onPath tells whether an executable named name is in one of path's
// directories (the App's PATH, so tests can leave git out).
func onPath(path, name string) bool {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}
