package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

// CompareCommits returns GitHub's status of head relative to base in repo
// (owner/name): "ahead", "behind", "identical" or "diverged".
func (c *Client) CompareCommits(ctx context.Context, repo, base, head string) (string, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", err
	}
	// One commit per page: only the status is read, not the commit list.
	cmp, _, err := c.gh.Repositories.CompareCommits(ctx, owner, name, base, head, &gh.ListOptions{PerPage: 1})
	if err != nil {
		return "", fmt.Errorf("failed to compare %s...%s in %s: %w", base, head, repo, err)
	}
	if cmp.GetStatus() == "" {
		return "", fmt.Errorf("failed to compare %s...%s in %s: the answer has no status", base, head, repo)
	}
	return cmp.GetStatus(), nil
}
