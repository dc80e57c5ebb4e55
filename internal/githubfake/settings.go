package githubfake

import (
	"fmt"
	"net/http"
	"time"
)

// Route names of the repository settings doctor reads.
const (
	RouteEnvironment       = "environment"
	RouteBranchPolicies    = "deployment-branch-policies"
	RouteOIDCCustomization = "oidc-customization"
)

// Environment is a deployment environment as the fake stores it.
type Environment struct {
	Name string
	// BranchRule nil: no deployment_branch_policy (any branch deploys).
	BranchRule *BranchRule
	// Reviewers are the required reviewers' team IDs (none: no
	// required_reviewers protection rule).
	Reviewers []int64
}

// BranchRule is an environment's deployment_branch_policy and, when
// custom, its branch policies' names.
type BranchRule struct {
	ProtectedBranches bool
	Branches          []string // custom_branch_policies when non-empty or Custom
	Custom            bool
}

// repoSettings are the repository settings the fake answers.
type repoSettings struct {
	envs        map[string]Environment
	useDefault  bool
	includeKeys []string
}

// settingsRoutes registers the settings endpoints under prefix.
func (s *Server) settingsRoutes(mux *http.ServeMux, prefix string) {
	s.settings = repoSettings{envs: map[string]Environment{}, useDefault: true}
	mux.HandleFunc("GET "+prefix+"/environments/{name}", s.route(RouteEnvironment, s.getEnvironment))
	mux.HandleFunc("GET "+prefix+"/environments/{name}/deployment-branch-policies", s.route(RouteBranchPolicies, s.branchPolicies))
	mux.HandleFunc("GET "+prefix+"/actions/oidc/customization/sub", s.route(RouteOIDCCustomization, s.oidcCustomization))
}

// SetEnvironment creates or replaces an environment.
func (s *Server) SetEnvironment(e Environment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.envs[e.Name] = e
}

// SetSubjectCustomization sets the repository's OIDC subject template
// (keys nil: GitHub's default, use_default true).
func (s *Server) SetSubjectCustomization(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings.useDefault, s.settings.includeKeys = len(keys) == 0, keys
}

var envTime = time.Date(2026, 11, 23, 22, 0, 40, 0, time.UTC).Format(time.RFC3339)

// getEnvironment answers as GitHub's "Get an environment" does.
func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e, ok := s.settings.envs[r.PathValue("name")]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	base := "https://api.github.com/repos/" + s.Repo + "/environments/" + e.Name
	rules := []map[string]any{}
	if len(e.Reviewers) > 0 {
		var reviewers []map[string]any
		for _, id := range e.Reviewers {
			reviewers = append(reviewers, map[string]any{"type": "Team", "reviewer": map[string]any{"id": id, "node_id": "MDQ6VGVhbTE=", "name": "ops", "slug": "ops"}})
		}
		rules = append(rules, map[string]any{"id": 3755, "node_id": "MDQ6R2F0ZTM3NTU=", "prevent_self_review": true, "type": "required_reviewers", "reviewers": reviewers})
	}
	env := map[string]any{
		"id": 161088068, "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4", "name": e.Name, "url": base,
		"html_url":   "https://github.com/" + s.Repo + "/deployments/activity_log?environments_filter=" + e.Name,
		"created_at": envTime, "updated_at": envTime, "protection_rules": rules, "deployment_branch_policy": nil,
	}
	if b := e.BranchRule; b != nil {
		custom := b.Custom || len(b.Branches) > 0
		env["deployment_branch_policy"] = map[string]any{"protected_branches": b.ProtectedBranches, "custom_branch_policies": custom}
		rules = append(rules, map[string]any{"id": 3756, "node_id": "MDQ6R2F0ZTM3NTY=", "type": "branch_policy"})
		env["protection_rules"] = rules
	}
	writeJSON(w, http.StatusOK, env)
}

// branchPolicies answers "List deployment branch policies".
func (s *Server) branchPolicies(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e, ok := s.settings.envs[r.PathValue("name")]
	s.mu.Unlock()
	if !ok || e.BranchRule == nil {
		notFound(w)
		return
	}
	list := []map[string]any{}
	for i, b := range e.BranchRule.Branches {
		list = append(list, map[string]any{"id": 361471 + i, "node_id": fmt.Sprintf("MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0N%d", i), "name": b, "type": "branch"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(list), "branch_policies": list})
}

// oidcCustomization answers "Get the customization template for an OIDC
// subject claim for a repository".
func (s *Server) oidcCustomization(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := map[string]any{"use_default": s.settings.useDefault}
	if !s.settings.useDefault {
		body["include_claim_keys"] = s.settings.includeKeys
	}
	writeJSON(w, http.StatusOK, body)
}
