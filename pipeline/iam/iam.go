// Package iam writes the least-privilege IAM policies of prstate's CI jobs
// and the OIDC trust policy each job's role needs. It is pure: the input is
// the stacks (bucket, key scheme, lock settings) and the repository; every
// name in a policy comes from the key and name functions the commands use,
// so a policy cannot drift from what the commands touch.
//
// Jobs: plan and cleanup run on pull requests and never get a write to a
// production name (state, .tflock, digest, apply lock, ledger), nor a read
// (checkPRReach: no role a pull_request job can assume reads production);
// the gated seed role (plan with a seed) runs in a protected environment
// that needs a reviewer's approval; apply runs on the default branch (or
// a protected environment); sweep on a schedule on the default branch; ops
// (status, force-unlock) in an environment. Every trust expects the
// repository's OIDC subject to include the ref (SubjectClaimKeys).
package iam

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

// Job is the CI job a role is for.
type Job string

// The jobs, each with a role of its own.
const (
	JobPlan    Job = "plan"
	JobCleanup Job = "cleanup"
	JobApply   Job = "apply"
	JobSweep   Job = "sweep"
	JobOps     Job = "ops"
)

// Jobs lists every job, in the order people meet them.
var Jobs = []Job{JobPlan, JobCleanup, JobApply, JobSweep, JobOps}

// ParseJob reads a job name; an unknown one is a usage error.
func ParseJob(s string) (Job, error) {
	for _, j := range Jobs {
		if string(j) == s {
			return j, nil
		}
	}
	return "", usage.Errorf("unknown job %q: want plan, cleanup, apply, sweep or ops", s)
}

// PullRequest tells whether the job runs on pull request events, where
// anyone who can open a pull request controls the code.
func (j Job) PullRequest() bool { return j == JobPlan || j == JobCleanup }

// Stack is one state and how it is locked.
type Stack struct {
	Bucket             string
	Region             string // of the lock table; "" for any
	Keys               statekey.Keys
	DynamoDBTable      string // "" without a table
	UseLockfile        bool
	LockBackend        string // dynamodb | s3: where the apply lock and ledger live
	WorkspaceKeyPrefix string // Terraform's workspace_key_prefix ("" is env:)
}

// Input is what a role is written for.
type Input struct {
	Job           Job
	Stacks        []Stack
	Seed          bool   // plan seeds PR states from production
	Repository    string // owner/name
	DefaultBranch string // "" is main
	Environment   string // a protected environment the job runs in (apply, sweep, ops; plan with Seed: the gated seed role)
	AccountID     string // 12 digits; "" puts a placeholder in the trust policy (S3-only stacks)
	// RepositoryID and OwnerID, both or neither, select GitHub's immutable
	// subject form repo:OWNER@OWNER_ID/REPO@REPO_ID:...
	RepositoryID, OwnerID string
}

// Role is one job's permissions and trust.
type Role struct {
	Job     Job    `json:"job"`
	Subject string `json:"subject"` // the OIDC sub the trust policy admits ("*": any PR number)
	Policy  Policy `json:"policy"`
	Trust   Policy `json:"trust_policy"`
	// Customization is the repository's OIDC subject customization the
	// trust expects (once per repository), Setup the calls that make it
	// and protect the role's environment.
	Customization Customization `json:"oidc_subject_customization"`
	Setup         []string      `json:"setup"`
	Notes         []string      `json:"notes,omitempty"`
}

// Generate writes the role of in.Job. For the roles that name PR keys it
// refuses (usage error) a key scheme under which a PR pattern could match a
// production name of any stack.
func Generate(in Input) (Role, error) {
	if len(in.Stacks) == 0 {
		return Role{}, usage.Errorf("no stack to write a policy for")
	}
	if _, err := ParseJob(string(in.Job)); err != nil {
		return Role{}, err
	}
	if err := validateInput(in); err != nil {
		return Role{}, err
	}
	all := make([]names, len(in.Stacks))
	for i, st := range in.Stacks {
		// A policy is JSON: a name that is not UTF-8 would reach IAM changed.
		for _, s := range []string{st.Bucket, st.Keys.Production, st.DynamoDBTable, st.WorkspaceKeyPrefix} {
			if !utf8.ValidString(s) {
				return Role{}, usage.Errorf("%q is not valid UTF-8: no IAM policy can name it", s)
			}
		}
		before, after := st.Keys.PRKeyPattern()
		if !utf8.ValidString(before + after) {
			return Role{}, usage.Errorf("the PR keys of %q are not valid UTF-8: no IAM policy can name them", st.Keys.Production)
		}
		all[i] = namesOf(st, in.AccountID)
	}
	// Apply names no PR key; every other role grants writes on PR patterns.
	if in.Job != JobApply {
		if err := checkSeparated(all); err != nil {
			return Role{}, err
		}
	}
	sub, notes, err := subject(in)
	if err != nil {
		return Role{}, err
	}
	b := &builder{}
	for i := range all {
		notes = append(notes, jobStatements(b, in, all[i])...)
	}
	role := Role{Job: in.Job, Subject: sub, Policy: b.policy(), Trust: trustPolicy(in.AccountID, sub),
		Customization: Customization{IncludeClaimKeys: SubjectClaimKeys}, Setup: setup(in), Notes: dedupe(notes)}
	if err := checkPRReach(in, role, b.reads, all); err != nil {
		return Role{}, err
	}
	if n := role.Policy.compactLen(); n > managedPolicyMax {
		role.Notes = append(role.Notes, fmt.Sprintf("the policy has %d characters, more than the %d of one managed policy: split the stacks over several policies", n, managedPolicyMax))
	}
	if in.Job != JobApply {
		role.Notes = append(role.Notes, "PR patterns are checked against the production names of the stacks given (working-directory): list every stack that shares the bucket or table")
	}
	if in.AccountID == "" {
		role.Notes = append(role.Notes, "the trust policy names the account as "+accountPlaceholder+": set --account-id")
	}
	return role, nil
}

// managedPolicyMax is IAM's size limit of a managed policy (characters,
// whitespace not counted).
const managedPolicyMax = 6144

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
