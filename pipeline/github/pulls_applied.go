package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

// CommitsBetween lists the commits head has that base has not (GitHub's
// compare API, up to its 250 commits), head included. An empty base
// lists head alone.
func (c *Client) CommitsBetween(ctx context.Context, repo, base, head string) ([]string, error) {
	if base == "" {
		return []string{head}, nil
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	opts := &gh.ListOptions{PerPage: 100}
	for {
		cmp, resp, err := c.gh.Repositories.CompareCommits(ctx, owner, name, base, head, opts)
		if err != nil {
			return nil, fmt.Errorf("failed to list the commits %s...%s in %s: %w", base, head, repo, err)
		}
		for _, rc := range cmp.Commits {
			if sha := rc.GetSHA(); sha != "" && !seen[sha] {
				seen[sha] = true
				out = append(out, sha)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if !seen[head] && base != head {
		out = append(out, head)
	}
	return out, nil
}

// MergedPull is a merged pull request and its final head commit.
type MergedPull struct {
	Number  int
	HeadSHA string
}

// MergedPullsForCommit lists the merged pull requests that contain sha
// (commits-to-pulls), each with its head commit.
func (c *Client) MergedPullsForCommit(ctx context.Context, repo, sha string) ([]MergedPull, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	pulls, _, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, sha, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return nil, fmt.Errorf("failed to find the pull requests of commit %s in %s: %w", sha, repo, err)
	}
	var out []MergedPull
	for _, p := range pulls {
		if p.MergedAt != nil {
			out = append(out, MergedPull{Number: p.GetNumber(), HeadSHA: p.GetHead().GetSHA()})
		}
	}
	return out, nil
}

// PullHead returns a pull request's head commit (the pulls API).
func (c *Client) PullHead(ctx context.Context, repo string, number int) (string, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", err
	}
	p, _, err := c.gh.PullRequests.Get(ctx, owner, name, number)
	if err != nil {
		return "", fmt.Errorf("failed to read pull request #%d of %s: %w", number, repo, err)
	}
	return p.GetHead().GetSHA(), nil
}
