// Package github is prstate's thin adapter over the GitHub REST API
// (go-github v60). Each file adds the calls one pipeline step needs; the
// steps declare the small interfaces they use.
package github

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Client talks to api.github.com or a GitHub Enterprise Server.
type Client struct {
	gh *gh.Client
}

// New returns a client authenticated with token (may be empty) against
// apiURL (GITHUB_API_URL; empty means https://api.github.com/).
// httpClient may be nil.
func New(token, apiURL string, httpClient *http.Client) (*Client, error) {
	c := gh.NewClient(httpClient)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if apiURL != "" && strings.TrimSuffix(apiURL, "/") != "https://api.github.com" {
		base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
		if err != nil {
			return nil, fmt.Errorf("failed to parse GITHUB_API_URL %q: %w", apiURL, err)
		}
		c.BaseURL = base
	}
	return &Client{gh: c}, nil
}

// splitRepo splits "owner/name".
func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return "", "", fmt.Errorf("invalid repository %q: want owner/name", repo)
	}
	return owner, name, nil
}
