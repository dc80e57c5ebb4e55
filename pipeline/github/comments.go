package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// FindIssueComment pages through the comments of issue (a pull request's
// number) and returns the first one written by author whose body starts
// with prefix; id 0 when there is none. Comments by anyone else are
// passed over whatever they say.
func (c *Client) FindIssueComment(ctx context.Context, repo string, issue int, prefix string, author Author) (id int64, body string, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return 0, "", err
	}
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := c.gh.Issues.ListComments(ctx, owner, name, issue, opts)
		if err != nil {
			return 0, "", fmt.Errorf("failed to list the comments of #%d in %s: %w", issue, repo, withPermissionHint(err))
		}
		for _, cm := range comments {
			// A prefix, not a substring: a reply quoting our comment starts with "> ".
			if strings.HasPrefix(cm.GetBody(), prefix) && authorOf(cm.GetUser()).Is(author) {
				return cm.GetID(), cm.GetBody(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, "", nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateIssueComment comments on issue and returns the comment's ID and
// who GitHub says wrote it.
func (c *Client) CreateIssueComment(ctx context.Context, repo string, issue int, body string) (int64, Author, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return 0, Author{}, err
	}
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, name, issue, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		return 0, Author{}, fmt.Errorf("failed to comment on #%d in %s: %w", issue, repo, withPermissionHint(err))
	}
	return cm.GetID(), authorOf(cm.GetUser()), nil
}

// EditIssueComment replaces the body of comment id.
func (c *Client) EditIssueComment(ctx context.Context, repo string, id int64, body string) error {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return err
	}
	if _, _, err := c.gh.Issues.EditComment(ctx, owner, name, id, &gh.IssueComment{Body: gh.String(body)}); err != nil {
		return fmt.Errorf("failed to edit comment %d in %s: %w", id, repo, withPermissionHint(err))
	}
	return nil
}

// withPermissionHint adds the next step to GitHub's 403 "Resource not
// accessible by integration", which does not say which permission is missing.
func withPermissionHint(err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w (give the job `permissions: pull-requests: write` and pass github-token)", err)
	}
	return err
}
