package iam

import (
	"regexp"
	"strings"

	"github.com/prstate/prstate/pipeline/usage"
)

// The OIDC provider of GitHub Actions and the audience
// configure-aws-credentials asks for.
const (
	oidcHost           = "token.actions.githubusercontent.com"
	oidcAudience       = "sts.amazonaws.com"
	accountPlaceholder = "ACCOUNT_ID"
)

// SubjectClaimKeys is the repository's OIDC subject customization every
// trust policy prstate writes expects (PUT
// /repos/{owner}/{repo}/actions/oidc/customization/sub): the subject then
// names the ref the job runs on, e.g.
// repo:O/R:environment:production:ref:refs/heads/main, so a pull request
// job that names the environment still presents refs/pull/N/merge.
var SubjectClaimKeys = []string{"repo", "context", "ref"}

// Customization is the body of GitHub's subject customization call.
type Customization struct {
	UseDefault       bool     `json:"use_default"`
	IncludeClaimKeys []string `json:"include_claim_keys"`
}

var (
	repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	// envPattern: GitHub writes other characters of an environment name
	// encoded into the subject, so a trust naming them never matches.
	envPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)
	// branchPattern: a branch name as it appears in refs/heads/<name>,
	// without the characters IAM or the subject give a meaning (":" "*" "?"
	// "$") and without what git refuses.
	branchPattern = regexp.MustCompile(`^[A-Za-z0-9_.+@-]+(/[A-Za-z0-9_.+@-]+)*$`)
	idPattern     = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)
	// accountPattern: an AWS account ID, 12 digits.
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

// repoClaim is the repo part of the subject: OWNER/REPO, or GitHub's
// immutable OWNER@OWNER_ID/REPO@REPO_ID when the IDs are given.
func repoClaim(in Input) string {
	if in.RepositoryID == "" {
		return "repo:" + in.Repository
	}
	owner, name, _ := strings.Cut(in.Repository, "/")
	return "repo:" + owner + "@" + in.OwnerID + "/" + name + "@" + in.RepositoryID
}

// pullRef is the ref of every pull_request job: refs/pull/<n>/merge.
const pullRef = "refs/pull/*/merge"

// subject is the OIDC sub of in.Job's runs, in the customized form
// (SubjectClaimKeys: repo, context, ref): for PR jobs the pull_request
// context on a PR ref; for the gated seed role its environment on a PR
// ref; for apply, sweep and ops the environment, when set, or the default
// branch's ref context, on the default branch's ref.
func subject(in Input) (string, []string, error) {
	repo := repoClaim(in) + ":"
	gated := in.Job == JobPlan && in.Seed
	if in.Job.PullRequest() && !gated {
		if in.Environment != "" {
			if in.Job == JobPlan {
				return "", nil, usage.Errorf("--environment with --job plan is the gated seed role: add --seed production (or drop --environment for the plan role)")
			}
			return "", nil, usage.Errorf("--environment is for apply, sweep, ops and the gated seed role: the cleanup job runs on pull requests and is trusted as pull_request")
		}
		return repo + "pull_request:ref:" + pullRef, []string{"trusted as pull_request: every pull request of the repository (not from forks, which get no OIDC token) can assume this role; it reads nothing of production"}, nil
	}
	if gated {
		if in.Environment == "" {
			return "", nil, usage.Errorf("--seed production needs --environment NAME: a role that reads production's state must not be one every pull request can assume; the seed role is trusted only in a protected environment (required reviewers) that seeding jobs name")
		}
		return repo + "environment:" + in.Environment + ":ref:" + pullRef, nil, nil
	}
	branch := in.DefaultBranch
	var notes []string
	if branch == "" {
		branch = "main"
		notes = append(notes, "default branch assumed main: set --default-branch")
	}
	ref := "ref:refs/heads/" + branch
	if in.Environment != "" {
		return repo + "environment:" + in.Environment + ":" + ref, notes, nil
	}
	if in.Job == JobOps {
		return "", nil, usage.Errorf("the ops job needs --environment NAME: a protected environment only operators can run in")
	}
	if in.Job == JobApply {
		notes = append(notes, "any workflow run on the default branch gets this sub (also pull_request_target, issue_comment, workflow_dispatch): prefer --environment with a protected environment for apply")
	}
	return repo + ref + ":" + ref, notes, nil
}

// validateInput checks what the trust policy and ARNs are written from.
func validateInput(in Input) error {
	if !repoPattern.MatchString(in.Repository) {
		if in.Repository == "" {
			return usage.Errorf("no repository: set --repository OWNER/NAME (or GITHUB_REPOSITORY)")
		}
		return usage.Errorf("invalid repository %q: want OWNER/NAME", in.Repository)
	}
	if in.AccountID != "" && !accountPattern.MatchString(in.AccountID) {
		return usage.Errorf("invalid account-id %q: want the 12 digits of an AWS account", in.AccountID)
	}
	if in.Environment != "" {
		if err := ValidEnvironment(in.Environment); err != nil {
			return err
		}
	}
	if b := in.DefaultBranch; b != "" && (!branchPattern.MatchString(b) || strings.Contains(b, "..") || strings.HasSuffix(b, ".lock")) {
		return usage.Errorf("invalid default-branch %q: want a branch name (letters, digits and . _ - + @ /; no ':', '*', '?', '..')", b)
	}
	if (in.RepositoryID == "") != (in.OwnerID == "") {
		return usage.Errorf("the immutable OIDC subject needs both --repository-id and --owner-id")
	}
	for _, id := range []string{in.RepositoryID, in.OwnerID} {
		if id != "" && !idPattern.MatchString(id) {
			return usage.Errorf("invalid GitHub ID %q: want a positive number", id)
		}
	}
	for _, st := range in.Stacks {
		if st.DynamoDBTable != "" && in.AccountID == "" {
			return usage.Errorf("the lock table %s is named by its ARN, which needs the account: set --account-id", st.DynamoDBTable)
		}
	}
	return nil
}

// ValidEnvironment refuses (usage error) an environment name a trust
// cannot name: GitHub writes characters other than letters, digits, '.',
// '_' and '-' encoded into the OIDC subject.
func ValidEnvironment(name string) error {
	if !envPattern.MatchString(name) {
		return usage.Errorf("invalid environment %q: use letters, digits, '.', '_' and '-' (GitHub writes other characters encoded into the OIDC subject, so no trust would match)", name)
	}
	return nil
}

// trustPolicy admits GitHub's OIDC tokens with sub for sts.amazonaws.com;
// a sub with a wildcard (a PR ref) is compared with StringLike.
func trustPolicy(account, sub string) Policy {
	if account == "" {
		account = accountPlaceholder
	}
	cond := Condition{"StringEquals": {oidcHost + ":aud": {oidcAudience}}}
	if strings.Contains(sub, "*") {
		cond["StringLike"] = map[string][]string{oidcHost + ":sub": {sub}}
	} else {
		cond["StringEquals"][oidcHost+":sub"] = []string{sub}
	}
	return Policy{Version: policyVersion, Statement: []Statement{{
		Sid:       "GitHubActionsOIDC",
		Effect:    "Allow",
		Principal: &Principal{Federated: "arn:aws:iam::" + account + ":oidc-provider/" + oidcHost},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: cond,
	}}}
}
