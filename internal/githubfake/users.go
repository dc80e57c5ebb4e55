package githubfake

import (
	"hash/fnv"
	"net/http"
	"strings"
)

// User is an account as GitHub's `user: {login, id, type}` describes it.
type User struct {
	Login string
	ID    int64
	Type  string // User, Bot
}

// ActionsBot is the account the Actions GITHUB_TOKEN writes as.
var ActionsBot = User{Login: "github-actions[bot]", ID: 41898282, Type: "Bot"}

// UserNamed is the account login: a Bot when it ends in "[bot]" (no user
// login can), ActionsBot for github-actions[bot], with a stable ID.
func UserNamed(login string) User {
	if login == ActionsBot.Login {
		return ActionsBot
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(login)))
	u := User{Login: login, ID: int64(h.Sum32()) + 1, Type: "User"}
	if strings.HasSuffix(login, "[bot]") {
		u.Type = "Bot"
	}
	return u
}

func (u User) json() map[string]any {
	return map[string]any{"login": u.Login, "id": u.ID, "node_id": "U_" + u.Login, "type": u.Type, "site_admin": false}
}

// getUser answers GET /user: the token's user, or for an app installation
// (a Bot identity) GitHub's 403, as for GITHUB_TOKEN.
func (s *Server) getUser(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	me := s.Identity
	s.mu.Unlock()
	if me.Type == "Bot" {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user", "status": "403"})
		return
	}
	writeJSON(w, http.StatusOK, me.json())
}
