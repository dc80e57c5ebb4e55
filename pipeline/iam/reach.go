package iam

import (
	"strings"

	"github.com/prstate/prstate/pipeline/usage"
)

// prSubjects are OIDC subjects a pull_request job presents, in GitHub's
// documented forms, without anyone's approval: the default pull_request
// subject, the customized ones (ref, job_workflow_ref), and an environment
// the job names, which GitHub creates unprotected when it does not exist
// (any name, and the role's own environment unless the role is the gated
// seed role, whose environment requires a reviewer's approval), in the
// name form and the immutable ID form. Every environment trust names
// counts as one a PR job can name.
func prSubjects(in Input, trust Policy) []string {
	const ref = "refs/pull/1/merge"
	repos := []string{"repo:" + in.Repository}
	if in.RepositoryID != "" {
		repos = append(repos, repoClaim(in))
	}
	envs := []string{"pr-named-environment"}
	if in.Environment != "" && !in.gatedSeed() {
		envs = append(envs, in.Environment)
	}
	// Every environment the trust names: a PR job can name it too.
	for _, st := range trust.Statement {
		for _, op := range []string{"StringEquals", "StringLike"} {
			for _, v := range st.Condition[op][oidcHost+":sub"] {
				if _, rest, ok := strings.Cut(v, ":environment:"); ok {
					e, _, _ := strings.Cut(rest, ":")
					if !in.gatedSeed() || e != in.Environment {
						envs = append(envs, e)
					}
				}
			}
		}
	}
	var out []string
	for _, r := range repos {
		out = append(out, r+":pull_request", r+":pull_request:ref:"+ref,
			r+":pull_request:job_workflow_ref:"+in.Repository+"/.github/workflows/plan.yml@"+ref)
		for _, e := range envs {
			out = append(out, r+":environment:"+e, r+":environment:"+e+":ref:"+ref)
		}
	}
	return out
}

// gatedSeed tells whether in is the gated seed role: plan with a seed,
// trusted only in a protected environment.
func (in Input) gatedSeed() bool { return in.Job == JobPlan && in.Seed && in.Environment != "" }

// admits tells whether the trust policy lets a token with sub assume the
// role (its aud being sts.amazonaws.com).
func admits(trust Policy, sub string) bool {
	for _, s := range trust.Statement {
		if s.Effect != "Allow" {
			continue
		}
		key := oidcHost + ":sub"
		ok := false
		for _, v := range s.Condition["StringEquals"][key] {
			ok = ok || v == sub
		}
		for _, v := range s.Condition["StringLike"][key] {
			ok = ok || intersects(literal(sub), glob(strings.Split(v, "*")))
		}
		if ok {
			return true
		}
	}
	return false
}

// checkPRReach refuses a role whose trust a pull_request job can satisfy
// and whose policy reads a production name of any stack: production's
// state holds its secrets.
func checkPRReach(in Input, role Role, reads []glob, all []names) error {
	for _, sub := range prSubjects(in, role.Trust) {
		if !admits(role.Trust, sub) {
			continue
		}
		for _, r := range reads {
			for _, n := range all {
				for _, p := range n.productionNames() {
					if intersects(r, p.name) {
						return usage.Errorf("refusing to write the %s role: a pull_request job (subject %s) can assume it and it reads production %s's %s %s", in.Job, sub, n.st.Keys.Production, p.what, p.name.String())
					}
				}
			}
		}
	}
	return nil
}
