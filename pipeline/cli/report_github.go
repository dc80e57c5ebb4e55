package cli

import (
	"errors"
	"net/http"
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
	return github.New(inv.cfg.GitHubToken, inv.app.Env("GITHUB_API_URL"), &http.Client{Timeout: reportGitHubTimeout})
}
