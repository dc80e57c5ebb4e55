package github

import (
	"context"
	"fmt"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// PullRequest is what a sweep reads of a listed pull request.
type PullRequest struct {
	Number    int
	UpdatedAt time.Time
	ClosedAt  time.Time
	Merged    bool
}

// ClosedPullRequests lists one page (100 a page) of repo's closed pull
// requests, most recently updated first. next is the next page, 0 after
// the last (from the Link header).
func (c *Client) ClosedPullRequests(ctx context.Context, repo string, page int) (prs []PullRequest, next int, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, 0, err
	}
	list, resp, err := c.gh.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{
		State: "closed", Sort: "updated", Direction: "desc",
		ListOptions: gh.ListOptions{Page: page, PerPage: 100},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("failed to list closed pull requests of %s (page %d): %w", repo, page, err)
	}
	for _, p := range list {
		prs = append(prs, PullRequest{
			Number:    p.GetNumber(),
			UpdatedAt: p.GetUpdatedAt().Time,
			ClosedAt:  p.GetClosedAt().Time,
			Merged:    !p.GetMergedAt().IsZero(),
		})
	}
	return prs, resp.NextPage, nil
}
