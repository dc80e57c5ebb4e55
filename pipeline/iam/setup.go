package iam

import (
	"fmt"
	"strings"
)

// setup lists the one-time calls the role's trust depends on, as gh
// commands: the repository's OIDC subject customization and, for a role
// trusted in an environment, that environment's protection (GitHub
// creates an environment a workflow names unprotected).
func setup(in Input) []string {
	repo := in.Repository
	keys := make([]string, len(SubjectClaimKeys))
	for i, k := range SubjectClaimKeys {
		keys[i] = "-f 'include_claim_keys[]=" + k + "'"
	}
	out := []string{fmt.Sprintf("once per repository, make the OIDC subject include the ref: gh api --method PUT repos/%s/actions/oidc/customization/sub -F use_default=false %s", repo, strings.Join(keys, " "))}
	if in.Environment == "" {
		return out
	}
	env := "repos/" + repo + "/environments/" + in.Environment
	if in.gatedSeed() {
		return append(out,
			fmt.Sprintf("protect the environment %s with required reviewers, so that a pull request job naming it waits for a reviewer's approval: gh api --method PUT %s -F 'reviewers[][type]=Team' -F 'reviewers[][id]=TEAM_ID' -F prevent_self_review=true", in.Environment, env),
			"seed in a job of its own that names the environment and runs prstate plan --seed production; plan jobs use the plan role (no seed), which never reads production")
	}
	branch := in.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	return append(out,
		fmt.Sprintf("create the environment %s with a deployment-branch rule: gh api --method PUT %s -F 'deployment_branch_policy[protected_branches]=false' -F 'deployment_branch_policy[custom_branch_policies]=true'", in.Environment, env),
		fmt.Sprintf("allow only the default branch to deploy to it: gh api --method POST %s/deployment-branch-policies -f name=%s -f type=branch", env, branch),
		"check both with prstate doctor --job "+string(in.Job)+" --environment "+in.Environment+" (with a GitHub token)")
}
