package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/usage"
)

var cleanupCommand = command{
	name:    "cleanup",
	summary: "on PR close: remove the PR's state versions, lock file, digest and lock items (every working directory)",
	options: func(c *Config) []optionGroup {
		return []optionGroup{c.stack(needBucket | needKey), c.prEvent(), use(&c.LockTimeoutOptions), use(&c.ForceOptions), use(&c.DryRunOptions), use(&c.GitHubOptions), use(&c.CommentOptions), use(&c.OutputOptions)}
	},
	run: runCleanup,
}

// cleanupReport is what cleanup and sweep print with --json.
type cleanupReport struct {
	Deleted int              `json:"deleted"`
	DryRun  bool             `json:"dry_run"`
	Results []cleanup.Result `json:"results"`
}

func runCleanup(ctx context.Context, inv *invocation) error {
	pr := inv.ev.PR
	if pr == 0 {
		return &usage.Error{Msg: "cleanup needs a pull request: run it on pull_request closed, or pass --pr N"}
	}
	opts := inv.cleanupOptions()
	rep := cleanupReport{DryRun: inv.cfg.DryRun, Results: []cleanup.Result{}}
	var errs []error
	for _, st := range inv.cfg.Stacks {
		store, err := inv.open(ctx, st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := cleanup.Run(ctx, cleanup.Store{Bucket: store.Bucket, Table: store.Table}, st, []int{pr}, opts)
		rep.Results = append(rep.Results, res...)
		if err != nil {
			errs = append(errs, err)
		}
		if !inv.cfg.DryRun {
			for _, r := range res {
				inv.commentStack(ctx, st, report.SectionCleanup, report.CleanupSection(inv.cleanupCommentReport(r), inv.ev.Links()))
			}
		}
	}
	err := errors.Join(errs...)
	rep.Deleted = countDeleted(rep.Results)
	return inv.finishCleanup("prstate cleanup", "", rep.DryRun, rep.Results, rep, err)
}

// cleanupCommentReport is what the PR's comment says of one cleanup result.
func (inv *invocation) cleanupCommentReport(r cleanup.Result) report.CleanupReport {
	cr := report.CleanupReport{Key: r.Key, At: inv.app.Now(), RunURL: inv.ev.RunURL, Removed: r.Versions + len(r.Items)}
	switch {
	case r.Error != "":
		cr.Kept = r.Error
	case r.Skipped != "":
		cr.Kept = r.Skipped
	}
	return cr
}

// cleanupOptions are the CLI's settings as cleanup options.
func (inv *invocation) cleanupOptions() cleanup.Options {
	who := "prstate"
	if host, err := os.Hostname(); err == nil {
		who += "@" + host
	}
	if inv.ev.RunURL != "" {
		who += " " + inv.ev.RunURL
	}
	return cleanup.Options{
		LockTimeout: inv.cfg.LockTimeout,
		Force:       inv.cfg.Force,
		DryRun:      inv.cfg.DryRun,
		Who:         who,
		Version:     "prstate",
		Logf:        inv.logf,
		Clock:       inv.app.Clock,
	}
}

// countDeleted counts the PR states removed (not in a dry run).
func countDeleted(results []cleanup.Result) int {
	n := 0
	for _, r := range results {
		if r.Removed() && r.Versions > 0 && !r.DryRun {
			n++
		}
	}
	return n
}

// finishCleanup prints the summary (stdout, or asJSON with --json, and the
// step summary), sets the outputs and returns err.
func (inv *invocation) finishCleanup(title, preface string, dry bool, results []cleanup.Result, asJSON any, err error) error {
	var versions int
	var bytes int64
	for _, r := range results {
		versions += r.Versions
		bytes += r.Bytes
	}
	if dry {
		versions, bytes = 0, 0
	}
	inv.rep.SetOutput("deleted", fmt.Sprint(countDeleted(results)))
	inv.rep.SetOutput("versions-removed", fmt.Sprint(versions))
	inv.rep.SetOutput("bytes-freed", fmt.Sprint(bytes))
	inv.rep.AddStepSummary(cleanupSummary(title, preface, dry, results))
	if inv.cfg.JSON {
		if perr := inv.printJSON(asJSON); perr != nil {
			return errors.Join(err, perr)
		}
		return err
	}
	if preface != "" {
		fmt.Fprintln(inv.stdout(), preface)
	}
	printCleanup(inv.stdout(), dry, results)
	return err
}
