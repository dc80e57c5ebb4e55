package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Author is who wrote a comment, as GitHub's `user: {login, id, type}`
// says: Type is "User" or "Bot".
type Author struct {
	Login string
	ID    int64 // 0 when not known (an author named by login only)
	Type  string
}

// ActionsBot is the author of what the Actions GITHUB_TOKEN writes. No user
// can take its login: GitHub logins cannot contain brackets, so a login
// ending in "[bot]" with type Bot is always an app's.
var ActionsBot = Author{Login: "github-actions[bot]", Type: "Bot"}

// Is reports whether a and b are the same account: by ID when both know
// it, else by login (GitHub compares logins without case) and type.
func (a Author) Is(b Author) bool {
	if a.Login == "" || b.Login == "" {
		return false
	}
	if a.ID != 0 && b.ID != 0 {
		return a.ID == b.ID
	}
	return strings.EqualFold(a.Login, b.Login) && strings.EqualFold(a.Type, b.Type)
}

func authorOf(u *gh.User) Author {
	return Author{Login: u.GetLogin(), ID: u.GetID(), Type: u.GetType()}
}

// ErrInstallationToken is TokenUser's answer for a token that acts as an
// app installation (the Actions GITHUB_TOKEN, or a GitHub App's token):
// GitHub answers GET /user with 403 "Resource not accessible by
// integration" for those, as there is no user behind them.
var ErrInstallationToken = errors.New("the token is an app installation's (GET /user is not allowed)")

// TokenUser returns the account the client's token acts as (GET /user):
// the user of a personal access token or of a user-to-server token.
func (c *Client) TokenUser(ctx context.Context) (Author, error) {
	u, _, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		var er *gh.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden {
			return Author{}, ErrInstallationToken
		}
		return Author{}, fmt.Errorf("failed to read who the github-token is (GET /user): %w", err)
	}
	return authorOf(u), nil
}
