package iam

import (
	"regexp"
)

// The OIDC provider of GitHub Actions and the audience
// configure-aws-credentials asks for.
const (
	oidcHost           = "token.actions.githubusercontent.com"
	oidcAudience       = "sts.amazonaws.com"
	accountPlaceholder = "ACCOUNT_ID"
)

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// subject is the OIDC sub of in.Job's runs: pull_request for PR jobs; the
// environment, when set, for the others; else the default branch.
func subject(in Input) (string, []string, error) {
	if !repoPattern.MatchString(in.Repository) {
		if in.Repository == "" {
			return "", nil, usageErrorf("no repository: set --repository OWNER/NAME (or GITHUB_REPOSITORY)")
		}
		return "", nil, usageErrorf("invalid repository %q: want OWNER/NAME", in.Repository)
	}
	repo := "repo:" + in.Repository + ":"
	if in.Job.PullRequest() {
		if in.Environment != "" {
			return "", nil, usageErrorf("--environment is for apply, sweep and ops: the %s job runs on pull requests and is trusted as pull_request", in.Job)
		}
		return repo + "pull_request", []string{"trusted as pull_request: every pull request of the repository (not from forks, which get no OIDC token) can assume this role"}, nil
	}
	if in.Environment != "" {
		return repo + "environment:" + in.Environment, nil, nil
	}
	if in.Job == JobOps {
		return "", nil, usageErrorf("the ops job needs --environment NAME: a protected environment only operators can run in")
	}
	branch := in.DefaultBranch
	var notes []string
	if branch == "" {
		branch = "main"
		notes = append(notes, "default branch assumed main: set --default-branch")
	}
	if in.Job == JobApply {
		notes = append(notes, "any workflow run on the default branch gets this sub (also pull_request_target, issue_comment, workflow_dispatch): prefer --environment with a protected environment for apply")
	}
	return repo + "ref:refs/heads/" + branch, notes, nil
}

// trustPolicy admits GitHub's OIDC tokens with sub for sts.amazonaws.com.
func trustPolicy(account, sub string) Policy {
	if account == "" {
		account = accountPlaceholder
	}
	return Policy{Version: policyVersion, Statement: []Statement{{
		Sid:       "GitHubActionsOIDC",
		Effect:    "Allow",
		Principal: &Principal{Federated: "arn:aws:iam::" + account + ":oidc-provider/" + oidcHost},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: Condition{"StringEquals": {
			oidcHost + ":aud": {oidcAudience},
			oidcHost + ":sub": {sub},
		}},
	}}}
}
