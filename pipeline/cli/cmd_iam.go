package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

var iamCommand = command{
	name:    "iam",
	summary: "print the least-privilege IAM policy and OIDC trust policy of a job's role (--job plan|cleanup|apply|sweep|ops)",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), use(&c.EventOptions), use(&c.JobOptions), use(&c.IAMOptions), use(&c.PlanOptions), use(&c.OutputOptions)}
	},
	run: runIam,
}

// iamJobs says what each job's role is for, in the human output's header.
var iamJobs = map[iam.Job]string{
	iam.JobPlan:    "pull request plans (prstate plan, terraform on the PR key)",
	iam.JobCleanup: "pull request cleanup on close (prstate cleanup)",
	iam.JobApply:   "applies on the default branch (prstate lock/run/unlock, terraform apply on production)",
	iam.JobSweep:   "the scheduled sweep (prstate sweep)",
	iam.JobOps:     "operators (prstate status, force-unlock)",
}

func runIam(_ context.Context, inv *invocation) error {
	cfg := inv.cfg
	name := cfg.Job
	if name == "" {
		return &usage.Error{Msg: "no job: pass --job plan, cleanup, apply, sweep or ops"}
	}
	job, err := iam.ParseJob(name)
	if err != nil {
		return err
	}
	in := iam.Input{
		Job:           job,
		Seed:          cfg.Seed == "production",
		Repository:    firstOf(cfg.Repository, inv.ev.Repository, inv.app.Env("GITHUB_REPOSITORY")),
		DefaultBranch: firstOf(cfg.DefaultBranch, inv.ev.DefaultBranch),
		Environment:   cfg.Environment,
		AccountID:     cfg.AccountID,
		RepositoryID:  cfg.RepositoryID,
		OwnerID:       cfg.OwnerID,
	}
	// The immutable subject: the IDs given, else the event's (both or none).
	if in.RepositoryID == "" && in.OwnerID == "" && inv.ev.RepositoryID > 0 && inv.ev.OwnerID > 0 && in.Repository == inv.ev.Repository {
		in.RepositoryID, in.OwnerID = strconv.FormatInt(inv.ev.RepositoryID, 10), strconv.FormatInt(inv.ev.OwnerID, 10)
	}
	for _, st := range cfg.Stacks {
		in.Stacks = append(in.Stacks, iamStack(st, cfg.LockBackendChoice))
	}
	role, err := iam.Generate(in)
	if err != nil {
		return err
	}
	if cfg.JSON {
		for _, n := range role.Notes {
			inv.logf("iam: %s", n)
		}
		return inv.printJSON(role)
	}
	what := iamJobs[role.Job]
	if job == iam.JobPlan && in.Seed {
		what = "seeding PR states (prstate plan --seed production, in the protected environment " + in.Environment + ")"
	}
	return printRole(inv, role, what)
}

// iamStack is a stack as the policies see it. The apply lock lives where
// the lock backend puts it: with auto, in the table when the stack has one.
func iamStack(st statekey.Stack, lockBackend string) iam.Stack {
	b := st.Backend
	lb := lockBackend
	if lb == "" || lb == "auto" {
		lb = "s3"
		if b.DynamoDBTable != "" {
			lb = "dynamodb"
		}
	}
	return iam.Stack{Bucket: b.Bucket, Region: b.Region, Keys: st.Keys, DynamoDBTable: b.DynamoDBTable,
		UseLockfile: b.UseLockfile, LockBackend: lb, WorkspaceKeyPrefix: b.WorkspaceKeyPrefix}
}

// printRole prints both documents, each under a comment header.
func printRole(inv *invocation, role iam.Role, what string) error {
	w := inv.stdout()
	fmt.Fprintf(w, "# prstate iam --job %s: the role of %s\n", role.Job, what)
	fmt.Fprintf(w, "# trusted OIDC subject: %s\n", role.Subject)
	for _, n := range role.Notes {
		fmt.Fprintf(w, "# note: %s\n", n)
	}
	for _, step := range role.Setup {
		fmt.Fprintf(w, "# setup: %s\n", step)
	}
	for _, doc := range []struct {
		title string
		p     iam.Policy
	}{{"permissions policy", role.Policy}, {"trust policy", role.Trust}} {
		out, err := json.MarshalIndent(doc.p, "", "  ")
		if err != nil {
			return fmt.Errorf("failed to print the %s: %w", doc.title, err)
		}
		fmt.Fprintf(w, "\n# %s (%s)\n%s\n", doc.title, role.Job, out)
	}
	return nil
}

// firstOf is the first non-blank value.
func firstOf(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
