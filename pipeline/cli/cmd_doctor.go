package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/report"
)

var doctorCommand = command{
	name:    "doctor",
	summary: "check the bucket, versioning, lifecycle, conditional writes, the lock table, a job's permissions (--job) and the clock; exit 2 on a FAIL",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), c.prEvent(), use(&c.LockStoreOptions), use(&c.JobOptions), use(&c.PlanOptions), use(&c.GitHubOptions), use(&c.DoctorEnvOptions), use(&c.OutputOptions)}
	},
	run: runDoctor,
}

// doctorFailed ends doctor with exit 2 when a check failed.
type doctorFailed struct{ n int }

func (e doctorFailed) Error() string {
	if e.n == 1 {
		return "doctor: 1 check failed (see the FAIL row)"
	}
	return fmt.Sprintf("doctor: %d checks failed (see the FAIL rows)", e.n)
}

func (doctorFailed) ExitCode() int { return 2 }

func runDoctor(ctx context.Context, inv *invocation) error {
	job, err := inv.doctorJob()
	if err != nil {
		return err
	}
	var targets []doctor.Target
	for _, st := range inv.cfg.Stacks {
		store, err := inv.connect(ctx, st)
		if err != nil {
			return err
		}
		t := doctor.Target{Label: inv.stackLabel(st), Stack: st, LockBackend: inv.cfg.LockBackend, Bucket: store.Bucket, Table: store.Table}
		if store.Identity != nil {
			t.Identity = store.Identity
		}
		t.Settings = inv.doctorSettings(st, store)
		targets = append(targets, t)
	}
	pr := inv.ev.PR
	rep, err := doctor.Run(ctx, targets, doctor.Options{Job: job, PR: pr, Seed: inv.cfg.Seed == "production", Now: inv.app.Now})
	if err != nil {
		return err
	}
	if rep.Repository, err = inv.repositoryChecks(ctx, job); err != nil {
		return err
	}
	inv.rep.SetOutput("failures", fmt.Sprint(rep.Count(doctor.Fail)))
	inv.rep.SetOutput("warnings", fmt.Sprint(rep.Count(doctor.Warn)))
	inv.rep.AddStepSummary(doctorSummary(rep))
	if inv.cfg.JSON {
		err = inv.printJSON(rep)
	} else {
		err = doctor.WriteText(inv.stdout(), rep)
	}
	if err != nil {
		return err
	}
	if n := rep.Count(doctor.Fail); n > 0 {
		return doctorFailed{n}
	}
	return nil
}

// repositoryChecks asks GitHub, with a token, what the job's role trust
// relies on (doctor.CheckRepository); without a token or a repository it
// checks nothing.
func (inv *invocation) repositoryChecks(ctx context.Context, job iam.Job) ([]doctor.Row, error) {
	repo := firstOf(inv.ev.Repository, inv.app.Env("GITHUB_REPOSITORY"))
	if inv.cfg.GitHubToken == "" || repo == "" {
		return nil, nil
	}
	gh, err := inv.githubClient(30 * time.Second)
	if err != nil {
		return nil, err
	}
	return doctor.CheckRepository(ctx, gh, doctor.RepoCheck{Repo: repo, DefaultBranch: inv.ev.DefaultBranch,
		Environment: inv.cfg.DoctorEnvironment, Job: job, Seed: inv.cfg.Seed == "production"}), nil
}

// doctorJob is --job, or the job this event's `command: auto` runs.
func (inv *invocation) doctorJob() (iam.Job, error) {
	if v := inv.cfg.Job; v != "" {
		return iam.ParseJob(v)
	}
	cmd, err := AutoCommand(inv.ev)
	if err != nil {
		return "", nil
	}
	switch cmd {
	case "plan":
		return iam.JobPlan, nil
	case "cleanup":
		return iam.JobCleanup, nil
	case "lock":
		return iam.JobApply, nil
	case "sweep":
		return iam.JobSweep, nil
	}
	return "", nil
}

func doctorSummary(r doctor.Report) string {
	var rows []report.DoctorRow
	var settings []report.DoctorSetting
	for _, st := range r.Stacks {
		for _, row := range st.Rows {
			rows = append(rows, report.DoctorRow{Stack: st.Stack, Status: row.Status.String(), Check: row.Check, Detail: row.Detail, Fix: row.Fix})
		}
		for _, s := range st.Settings {
			settings = append(settings, report.DoctorSetting{Stack: st.Stack, Name: s.Name, Value: s.Value, Source: s.Source})
		}
	}
	for _, row := range r.Repository {
		rows = append(rows, report.DoctorRow{Stack: "repository (GitHub)", Status: row.Status.String(), Check: row.Check, Detail: row.Detail, Fix: row.Fix})
	}
	counts := fmt.Sprintf("%d OK, %d WARN, %d FAIL", r.Count(doctor.OK), r.Count(doctor.Warn), r.Count(doctor.Fail))
	if r.Job != "" {
		counts += " (permissions of the " + string(r.Job) + " job)"
	}
	return report.RenderDoctorSummary(rows, settings, counts)
}
