package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/statekey"
)

// checkSupersede runs the supersede check under the apply lock (lock and
// run call it right after acquiring). It compares this run's commit with
// the ledger's; when this commit may go on it records it and sets the
// output superseded=false. When a newer commit already started its apply
// it sets superseded=true and warns naming that commit and its run: the
// caller then releases the lock, skips its command and exits 0. A diverged
// commit (without allow-diverged) is an error, as is a ledger written by
// someone else meanwhile, or the lock lost before the record was written.
func (inv *invocation) checkSupersede(ctx context.Context, lock applylock.Held, st Store) (applylock.Verdict, error) {
	stack := inv.cfg.Main()
	ledger := applylock.NewLedger(st.Bucket, st.Table, inv.cfg.LockBackend, stack.Keys.Production)
	v, err := applylock.Supersede(ctx, ledger, inv.stackComparer(), inv.ev, inv.cfg.AllowDiverged)
	if err != nil {
		return v, err
	}
	if v.Superseded {
		inv.rep.SetOutput("superseded", "true")
		inv.rep.Warning(v.SupersededMessage())
		return v, nil
	}
	if _, err := applylock.RecordApply(ctx, lock, ledger, v, inv.ev, inv.app.Now()); err != nil {
		return v, err
	}
	inv.rep.SetOutput("superseded", "false")
	switch {
	case v.Relation == applylock.RelationDiverged:
		inv.rep.Warning("commit " + ci.ShortSHA(v.Commit) + " diverged from " + ci.ShortSHA(v.Last.SHA) + ", the last commit applied; applying it because allow-diverged is set")
	case v.Commit == "":
		inv.logf("supersede check: no commit SHA (outside CI); nothing compared or recorded")
	case v.Last.SHA == "":
		inv.logf("supersede check: first apply recorded in %s", ledger.Where())
	default:
		inv.logf("supersede check: %s; recorded in %s", relationWords(v), ledger.Where())
	}
	return v, nil
}

// comparer asks GitHub's compare API when it can (a token, a GitHub
// repository), falling back to git in the checkout. The action's image has
// no git: there (GITHUB_ACTIONS=true and no git on PATH) the compare API
// is the only comparer, and its error is the step's error.
func (inv *invocation) comparer(st statekey.Stack) applylock.Comparer {
	git := applylock.FetchingGitComparer(st.Dir, inv.ev.DefaultBranch)
	if inv.app.Env("GITHUB_ACTIONS") == "true" && !onPath(inv.app.Env("PATH"), "git") {
		git = applylock.NoComparer("git merge-base", "this runs in prstate's action image, which has no git: pass github-token (the default, github.token, needs contents: read) so the GitHub compare API answers")
	}
	if inv.ev.Repository == "" || strings.HasPrefix(inv.ev.Name, "gitlab:") || inv.cfg.GitHubToken == "" {
		return git
	}
	api, err := inv.reportGitHub()
	if err != nil {
		inv.logf("supersede check: %v; using git", err)
		return git
	}
	gh := applylock.GitHubComparer(api, inv.ev.Repository)
	if _, none := git.(applylock.Unavailable); none {
		return gh
	}
	return applylock.FirstComparer(gh, git)
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
