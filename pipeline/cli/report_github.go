package cli

import (
	"errors"
	"time"

	"github.com/prstate/prstate/pipeline/github"
)

// reportGitHubTimeout bounds each call made to report (compare, comment):
// a slow API must not hold the apply lock for long.
const reportGitHubTimeout = 30 * time.Second

// reportGitHub is the GitHub client of the supersede check and the sticky
// comment; it needs github-token.
func (inv *invocation) reportGitHub() (*github.Client, error) {
	if inv.cfg.GitHubToken == "" {
		return nil, errors.New("no github-token (pass github-token: ${{ github.token }})")
	}
	return inv.githubClient(reportGitHubTimeout)
}
