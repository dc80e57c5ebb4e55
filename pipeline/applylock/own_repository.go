package applylock

import (
	"context"
	"strings"
)

// OwnRepository scopes c to repo: a record naming a run of another
// repository is never judged completed (anyone who can write a record can
// name any completed run), so only its lease frees it. An empty repo
// (outside CI) leaves c as it is.
func OwnRepository(c RunChecker, repo string) RunChecker {
	if c == nil || repo == "" {
		return c
	}
	return ownRepository{c: c, repo: repo}
}

type ownRepository struct {
	c    RunChecker
	repo string
}

func (o ownRepository) RunCompleted(ctx context.Context, repo string, runID int64) (bool, error) {
	if !strings.EqualFold(repo, o.repo) {
		return false, nil
	}
	return o.c.RunCompleted(ctx, repo, runID)
}
