package applylock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/prstate/prstate/pipeline/ci"
)

// GitComparer compares commits with `git merge-base --is-ancestor` in the
// repository checked out at dir (for runs without a GitHub token, or
// outside GitHub).
func GitComparer(dir string) Comparer { return gitComparer{dir: dir} }

type gitComparer struct{ dir string }

func (g gitComparer) Name() string { return "git merge-base" }

// fetchHint is the next step when history is missing.
const fetchHint = "fetch the full history (actions/checkout with fetch-depth: 0, or git fetch --unshallow), or pass github-token to use the GitHub compare API"

func (g gitComparer) Compare(ctx context.Context, base, head string) (Relation, error) {
	out, err := g.git(ctx, "rev-parse", "--is-shallow-repository")
	if err != nil {
		return "", fmt.Errorf("failed to read the git repository at %s (check the repository out, or pass github-token): %w", g.dir, err)
	}
	shallow := strings.TrimSpace(out) == "true"
	resolved := make([]string, 2)
	for i, sha := range []string{base, head} {
		out, err := g.git(ctx, "rev-parse", "--verify", "--quiet", sha+"^{commit}")
		if err != nil {
			what := "is not in the repository at " + g.dir
			if shallow {
				what += ", a shallow clone"
			}
			return "", fmt.Errorf("commit %s %s: %s", ci.ShortSHA(sha), what, fetchHint)
		}
		resolved[i] = strings.TrimSpace(out)
	}
	if resolved[0] == resolved[1] {
		return RelationIdentical, nil
	}
	// An ancestor found is proof even in a shallow clone; "not found" is
	// not, since the history beyond the shallow boundary is missing.
	if ok, err := g.isAncestor(ctx, resolved[0], resolved[1]); err != nil || ok {
		return RelationAhead, err
	}
	if ok, err := g.isAncestor(ctx, resolved[1], resolved[0]); err != nil || ok {
		return RelationBehind, err
	}
	if shallow {
		return "", fmt.Errorf("the repository at %s is a shallow clone, so commits %s and %s look unrelated: %s", g.dir, ci.ShortSHA(base), ci.ShortSHA(head), fetchHint)
	}
	return RelationDiverged, nil
}

// OnBranch tells whether sha is an ancestor of branch as the checkout
// knows it: the remote-tracking ref origin/<branch> (what was fetched from
// the server), else the local branch.
func (g gitComparer) OnBranch(ctx context.Context, branch, sha string) (bool, error) {
	for _, ref := range []string{"refs/remotes/origin/" + branch, "refs/heads/" + branch} {
		out, err := g.git(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
		if err != nil {
			continue
		}
		if _, err := g.git(ctx, "rev-parse", "--verify", "--quiet", sha+"^{commit}"); err != nil {
			return false, fmt.Errorf("commit %s is not in the repository at %s: %s", ci.ShortSHA(sha), g.dir, fetchHint)
		}
		return g.isAncestor(ctx, sha, strings.TrimSpace(out))
	}
	return false, fmt.Errorf("the repository at %s has no branch %s (nor origin/%s): %s", g.dir, branch, branch, fetchHint)
}

func (g gitComparer) isAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := g.git(ctx, "merge-base", "--is-ancestor", a, b)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return false, nil
	default:
		return false, err
	}
}

// git runs git in dir. safe.directory=* because the action's container
// runs as root over a workspace checked out by the runner's user.
func (g gitComparer) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "safe.directory=*", "-C", g.dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
