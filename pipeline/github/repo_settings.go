package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v60/github"
)

// ErrNoEnvironment is Environment's answer for an environment the
// repository does not have.
var ErrNoEnvironment = errors.New("no such environment")

// Environment is what doctor reads of a deployment environment.
type Environment struct {
	Name string
	// BranchRule: the environment has a deployment-branch rule
	// (deployment_branch_policy is set); ProtectedBranches: the rule is
	// "protected branches only"; Branches: the custom branch and tag
	// policies' names when it is custom.
	BranchRule        bool
	ProtectedBranches bool
	Branches          []string
	Reviewers         bool // a required_reviewers protection rule
}

// Environment reads repo's environment name (a name iam.ValidEnvironment
// accepts: it is put in the path as it is) and, under a custom
// deployment-branch rule, its branch policies.
func (c *Client) Environment(ctx context.Context, repo, name string) (Environment, error) {
	owner, rname, err := splitRepo(repo)
	if err != nil {
		return Environment{}, err
	}
	env, _, err := c.gh.Repositories.GetEnvironment(ctx, owner, rname, name)
	var re *gh.ErrorResponse
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusNotFound {
		return Environment{}, ErrNoEnvironment
	}
	if err != nil {
		return Environment{}, fmt.Errorf("failed to get environment %s of %s: %w", name, repo, err)
	}
	out := Environment{Name: env.GetName()}
	if p := env.DeploymentBranchPolicy; p != nil {
		out.BranchRule = true
		out.ProtectedBranches = p.GetProtectedBranches()
		if p.GetCustomBranchPolicies() {
			list, _, err := c.gh.Repositories.ListDeploymentBranchPolicies(ctx, owner, rname, name)
			if err != nil {
				return Environment{}, fmt.Errorf("failed to list the deployment branch policies of environment %s of %s: %w", name, repo, err)
			}
			for _, bp := range list.BranchPolicies {
				out.Branches = append(out.Branches, bp.GetName())
			}
		}
	}
	for _, r := range env.ProtectionRules {
		if r.GetType() == "required_reviewers" && len(r.Reviewers) > 0 {
			out.Reviewers = true
		}
	}
	return out, nil
}

// SubjectTemplate is the repository's OIDC subject customization.
type SubjectTemplate struct {
	UseDefault       bool
	IncludeClaimKeys []string
}

// SubjectTemplate reads repo's OIDC subject customization
// (GET /repos/{owner}/{repo}/actions/oidc/customization/sub).
func (c *Client) SubjectTemplate(ctx context.Context, repo string) (SubjectTemplate, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return SubjectTemplate{}, err
	}
	t, _, err := c.gh.Actions.GetRepoOIDCSubjectClaimCustomTemplate(ctx, owner, name)
	if err != nil {
		return SubjectTemplate{}, fmt.Errorf("failed to get the OIDC subject customization of %s: %w", repo, err)
	}
	return SubjectTemplate{UseDefault: t.GetUseDefault(), IncludeClaimKeys: t.IncludeClaimKeys}, nil
}
