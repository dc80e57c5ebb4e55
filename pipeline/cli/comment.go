package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/statekey"
)

// comment sets one section of the sticky PR comment of the main stack
// (with comment: true). On a push to the default branch the comment goes
// to the pull request the commit was merged from. A failure is a warning:
// the comment is a report, never the reason a step fails.
func (inv *invocation) comment(ctx context.Context, section, text string) {
	inv.commentStack(ctx, inv.cfg.Main(), section, text)
}

// commentStack is comment for one of several stacks (cleanup).
func (inv *invocation) commentStack(ctx context.Context, st statekey.Stack, section, text string) {
	if !inv.cfg.Comment {
		return
	}
	if err := inv.upsertComment(ctx, st, section, text); err != nil {
		inv.rep.Warning(fmt.Sprintf("failed to update the pull request comment: %v", err))
	}
}

func (inv *invocation) upsertComment(ctx context.Context, st statekey.Stack, section, text string) error {
	repo := inv.ev.Repository
	if repo == "" || strings.HasPrefix(inv.ev.Name, "gitlab:") {
		return errors.New("comment: true works on GitHub Actions only (no GITHUB_REPOSITORY)")
	}
	api, err := inv.reportGitHub()
	if err != nil {
		return fmt.Errorf("comment: true needs github-token with permissions: pull-requests: write: %w", err)
	}
	pr := inv.ev.PR
	if pr == 0 {
		if inv.ev.SHA == "" {
			return errors.New("no pull request and no commit to find one from")
		}
		if pr, err = api.MergedPullRequestForCommit(ctx, repo, inv.ev.SHA); err != nil {
			return err
		}
		if pr == 0 {
			inv.logf("comment: commit %s was not merged from a pull request; no comment", ci.ShortSHA(inv.ev.SHA))
			return nil
		}
	}
	author, err := report.CommentAuthor(ctx, api, inv.cfg.CommentAuthor)
	if err != nil {
		return err
	}
	id := report.CommentID{Stack: inv.stackLabel(st), Key: st.Keys.Production}
	created, err := report.UpsertComment(ctx, api, repo, pr, author, id, section, text)
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	inv.logf("comment: %s the %s section of the comment on #%d", verb, section, pr)
	return nil
}

// stackLabel names a stack by its directory relative to the working
// directory of the job (the repository), the same in the container and on
// the runner.
func (inv *invocation) stackLabel(st statekey.Stack) string { return displayDir(inv.app.Cwd, st.Dir) }
