package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prstate/prstate/pipeline/github"
	"github.com/prstate/prstate/pipeline/iam"
)

// RepoSettings is what doctor asks GitHub about the repository (the
// github adapter).
type RepoSettings interface {
	Environment(ctx context.Context, repo, name string) (github.Environment, error)
	SubjectTemplate(ctx context.Context, repo string) (github.SubjectTemplate, error)
}

// RepoCheck is what the repository checks need: the repository, its
// default branch, the job and the environment its role trusts ("" for
// none), and whether the job seeds (plan: the gated seed role).
type RepoCheck struct {
	Repo, DefaultBranch, Environment string
	Job                              iam.Job
	Seed                             bool
}

// CheckRepository checks what the trust policies `prstate iam` writes
// rely on in GitHub: that the repository's OIDC subject includes the ref
// (include_claim_keys repo, context, ref), and that the role's environment
// exists and is protected (a deployment-branch rule for apply, sweep and
// ops; required reviewers for the gated seed role). GitHub creates an
// environment a workflow names when it does not exist, unprotected: then a
// pull request job naming it would get the environment's subject.
func CheckRepository(ctx context.Context, gh RepoSettings, c RepoCheck) []Row {
	rows := []Row{subjectRow(ctx, gh, c)}
	if c.Environment != "" {
		rows = append(rows, environmentRow(ctx, gh, c))
	}
	return rows
}

func customizationFix(repo string) string {
	keys := make([]string, len(iam.SubjectClaimKeys))
	for i, k := range iam.SubjectClaimKeys {
		keys[i] = "-f 'include_claim_keys[]=" + k + "'"
	}
	return fmt.Sprintf("gh api --method PUT repos/%s/actions/oidc/customization/sub -F use_default=false %s", repo, strings.Join(keys, " "))
}

func subjectRow(ctx context.Context, gh RepoSettings, c RepoCheck) Row {
	row := Row{Check: "OIDC subject includes the ref"}
	t, err := gh.SubjectTemplate(ctx, c.Repo)
	switch {
	case err != nil:
		row.Status, row.Detail = Fail, "cannot read the OIDC subject customization: "+err.Error()
		row.Fix = "give doctor a token that can read the repository's Actions settings (github-token), or check it yourself: gh api repos/" + c.Repo + "/actions/oidc/customization/sub"
		return row
	case t.UseDefault || len(t.IncludeClaimKeys) == 0:
		row.Status, row.Detail = Fail, "the repository uses GitHub's default OIDC subject: the trusts prstate iam writes (which name the ref) match no token, and a trust by environment alone would admit a pull request job that names the environment"
	case !slices.Equal(t.IncludeClaimKeys, iam.SubjectClaimKeys):
		row.Status, row.Detail = Fail, fmt.Sprintf("include_claim_keys is %v, the trusts prstate iam writes expect %v", t.IncludeClaimKeys, iam.SubjectClaimKeys)
	default:
		row.Status, row.Detail = OK, fmt.Sprintf("include_claim_keys %v: a pull request job presents its refs/pull ref, whatever environment it names", t.IncludeClaimKeys)
		return row
	}
	row.Fix = customizationFix(c.Repo)
	return row
}

func environmentRow(ctx context.Context, gh RepoSettings, c RepoCheck) Row {
	row := Row{Check: "environment " + c.Environment + " protected"}
	repoEnv := "repos/" + c.Repo + "/environments/" + c.Environment
	gated := c.Job == iam.JobPlan && c.Seed
	branch := c.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	ruleFix := fmt.Sprintf("gh api --method PUT %s -F 'deployment_branch_policy[protected_branches]=false' -F 'deployment_branch_policy[custom_branch_policies]=true' && gh api --method POST %s/deployment-branch-policies -f name=%s -f type=branch", repoEnv, repoEnv, branch)
	reviewersFix := fmt.Sprintf("gh api --method PUT %s -F 'reviewers[][type]=Team' -F 'reviewers[][id]=TEAM_ID' -F prevent_self_review=true", repoEnv)
	fix := ruleFix
	if gated {
		fix = reviewersFix
	}
	env, err := gh.Environment(ctx, c.Repo, c.Environment)
	switch {
	case errors.Is(err, github.ErrNoEnvironment):
		row.Status, row.Detail, row.Fix = Fail, "the environment does not exist: the first workflow that names it creates it unprotected, a pull request's included", fix
	case err != nil:
		row.Status, row.Detail, row.Fix = Fail, "cannot read the environment: "+err.Error(), "give doctor a token that can read the repository (github-token)"
	case gated && !env.Reviewers:
		row.Status, row.Detail, row.Fix = Fail, "no required reviewers: a pull request job that names it gets the seed role, which reads production's state, without anyone's approval", fix
	case gated:
		row.Status, row.Detail = OK, "required reviewers approve each job that names it (the seed role reads production)"
	case !env.BranchRule:
		row.Status, row.Detail, row.Fix = Fail, "no deployment-branch rule: a job of any branch may run in it", fix
	case env.ProtectedBranches:
		row.Status, row.Detail = OK, "deployment-branch rule: protected branches only"
	case len(env.Branches) == 0:
		row.Status, row.Detail, row.Fix = Fail, "a custom deployment-branch rule that names no branch", fix
	default:
		var others []string
		for _, b := range env.Branches {
			if b != branch {
				others = append(others, b)
			}
		}
		if len(others) > 0 {
			row.Status, row.Detail = Warn, fmt.Sprintf("deployment branches %v: besides %s, %v may run in it", env.Branches, branch, others)
			row.Fix = "keep only " + branch + ": gh api " + repoEnv + "/deployment-branch-policies, then DELETE the others"
		} else {
			row.Status, row.Detail = OK, "deployment-branch rule: "+branch+" only"
		}
	}
	return row
}
