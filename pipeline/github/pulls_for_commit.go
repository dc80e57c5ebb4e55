package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

// MergedPullRequestForCommit finds the pull request whose merge produced
// sha (a push to the default branch), through the commits-to-pulls
// endpoint; 0 when no merged pull request contains the commit.
func (c *Client) MergedPullRequestForCommit(ctx context.Context, repo, sha string) (int, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return 0, err
	}
	pulls, _, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, sha, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return 0, fmt.Errorf("failed to find the pull request of commit %s in %s: %w", sha, repo, err)
	}
	// The merge commit names its pull request exactly; otherwise (a rebase
	// or fast-forward merge) the one merged pull request that has it.
	var merged []*gh.PullRequest
	for _, p := range pulls {
		if p.GetMergeCommitSHA() == sha && p.MergedAt != nil {
			return p.GetNumber(), nil
		}
		if p.MergedAt != nil {
			merged = append(merged, p)
		}
	}
	if len(merged) == 1 {
		return merged[0].GetNumber(), nil
	}
	return 0, nil
}
