package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prstate/prstate/pipeline"
)

var cleanupCommand = command{
	name:     "cleanup",
	summary:  "on PR close: remove the PR's state versions, lock file, digest and lock items (every working directory)",
	settings: []string{"lock-timeout", "force", "dry-run"},
	run:      runCleanup,
}

// cleanupReport is what cleanup and sweep print with --json.
type cleanupReport struct {
	Deleted int                      `json:"deleted"`
	DryRun  bool                     `json:"dry_run"`
	Results []pipeline.CleanupResult `json:"results"`
}

func runCleanup(ctx context.Context, inv *invocation) error {
	pr := inv.ev.PR
	if pr == 0 {
		return &pipeline.UsageError{Msg: "cleanup needs a pull request: run it on pull_request closed, or pass --pr N"}
	}
	opts := inv.cleanupOptions()
	rep := cleanupReport{DryRun: inv.cfg.DryRun, Results: []pipeline.CleanupResult{}}
	var errs []error
	for _, st := range inv.cfg.Stacks {
		store, err := inv.open(ctx, st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := pipeline.CleanupPRs(ctx, cleanupStore(store), st, []int{pr}, opts)
		rep.Results = append(rep.Results, res...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return inv.finishCleanup("prstate cleanup", rep, errors.Join(errs...))
}

// cleanupOptions are the CLI's settings as cleanup options.
func (inv *invocation) cleanupOptions() pipeline.CleanupOptions {
	who := "prstate"
	if host, err := os.Hostname(); err == nil {
		who += "@" + host
	}
	if inv.ev.RunURL != "" {
		who += " " + inv.ev.RunURL
	}
	return pipeline.CleanupOptions{
		LockTimeout: inv.cfg.LockTimeout,
		Force:       inv.cfg.Force,
		DryRun:      inv.cfg.DryRun,
		Who:         who,
		Version:     "prstate",
		Logf:        inv.logf,
	}
}

// cleanupStore narrows a stack's store to what cleanup uses.
func cleanupStore(s Store) pipeline.CleanupStore {
	cs := pipeline.CleanupStore{Bucket: s.Bucket}
	if s.Table != nil {
		cs.Table = s.Table
	}
	return cs
}

// finishCleanup prints the summary (stdout, JSON, step summary), sets
// the outputs and returns err.
func (inv *invocation) finishCleanup(title string, rep cleanupReport, err error) error {
	var versions int
	var bytes int64
	for _, r := range rep.Results {
		if r.Removed() && r.Versions > 0 && !r.DryRun {
			rep.Deleted++
		}
		versions += r.Versions
		bytes += r.Bytes
	}
	inv.rep.SetOutput("deleted", fmt.Sprint(rep.Deleted))
	inv.rep.SetOutput("versions-removed", fmt.Sprint(versions))
	inv.rep.SetOutput("bytes-freed", fmt.Sprint(bytes))
	inv.rep.AddStepSummary(cleanupSummary(title, rep.DryRun, rep.Results))
	if inv.cfg.JSON {
		if perr := inv.printJSON(rep); perr != nil {
			return errors.Join(err, perr)
		}
	} else {
		printCleanup(inv.stdout(), rep.DryRun, rep.Results)
	}
	return err
}
