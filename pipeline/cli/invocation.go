package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/statekey"
)

// invocation is one command run: validated config, the event, the runtime.
type invocation struct {
	app  *App
	cfg  Config
	ev   ci.Event
	rep  runner.Reporter
	args []string // after the flags (run: the command to wrap)
	// lockID is the apply lock ID shared by the stacks of one job ("": a
	// new one per lock); see multistack_lock.go.
	lockID string
}

// prepare parses flags and validates the option groups the command uses
// (and the event, when it uses one) before any work starts: bad input
// fails here, with nothing written. event is the process's event, read at
// most once.
func (a *App) prepare(cmd command, args []string, rep runner.Reporter, event func() (ci.Event, error)) (*invocation, error) {
	fs := flag.NewFlagSet("prstate "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(a.Stderr)
	var cfg Config
	l := &loader{fsys: a.FS, cwd: a.Cwd, workspace: a.workspace(), env: a.Env, cfg: &cfg, event: event}
	rest, err := loadConfig(cmd.options(&cfg), newSettingSet(fs, a.Env), args, l)
	if err != nil {
		return nil, err
	}
	if cfg.GitHubOptions != nil {
		rep.Mask(cfg.GitHubToken)
	}
	var stacks []statekey.Stack
	if cfg.StackOptions != nil {
		stacks = cfg.Stacks
	}
	for _, st := range stacks {
		for _, secret := range st.Config().Sensitive() {
			rep.Mask(secret)
		}
		// What the backend resolution passed over (a PR key an earlier
		// init recorded, a PR workspace selected): said, not hidden.
		for _, note := range st.Config().Notes() {
			fmt.Fprintf(a.Stderr, "prstate: %s\n", note)
		}
	}
	if cfg.OutputOptions != nil {
		a.debug = cfg.Debug
	}
	var ev ci.Event // zero for a command that reads no event
	if cfg.EventOptions != nil {
		ev = cfg.Event
		warnEventRisks(rep, ev)
	}
	return &invocation{app: a, cfg: cfg, ev: ev, rep: rep, args: rest}, nil
}

// workspace is where working directories must stay: GITHUB_WORKSPACE,
// else the current directory.
func (a *App) workspace() string {
	if w := a.Env("GITHUB_WORKSPACE"); w != "" {
		return w
	}
	return a.Cwd
}

func (inv *invocation) stdout() io.Writer { return inv.app.Stdout }

// logf prints one progress line on stderr. Its arguments may carry strings
// from S3, DynamoDB or GitHub: the line is escaped (escape.Log), so it
// stays one line and cannot start a workflow command.
func (inv *invocation) logf(format string, args ...any) {
	fmt.Fprintln(inv.app.Stderr, "prstate: "+escape.Log(fmt.Sprintf(format, args...)))
}

// open connects to a stack's storage, and refuses to act as an identity
// the backend's allowed_account_ids or forbidden_account_ids excludes.
func (inv *invocation) open(ctx context.Context, st statekey.Stack) (Store, error) {
	s, err := inv.connect(ctx, st)
	if err != nil {
		return Store{}, err
	}
	if s.Identity != nil {
		if _, err := s.Identity.CheckAccount(ctx); err != nil {
			return Store{}, err
		}
	}
	return s, nil
}

// connect connects to a stack's storage without checking the account:
// doctor reports it as a row.
func (inv *invocation) connect(ctx context.Context, st statekey.Stack) (Store, error) {
	s, err := inv.app.Open(ctx, st.Backend)
	if err != nil {
		return Store{}, fmt.Errorf("failed to connect to the state backend: %w", err)
	}
	return s, nil
}

// printJSON prints v as indented JSON on stdout.
func (inv *invocation) printJSON(v any) error {
	enc := json.NewEncoder(inv.stdout())
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("failed to print JSON: %w", err)
	}
	return nil
}

// setOutputs writes the target outputs every key-aware command shares.
func (inv *invocation) setOutputs(t plan.Target) {
	inv.rep.SetOutput("key", t.Key)
	inv.rep.SetOutput("workspace", t.Workspace)
	inv.rep.SetOutput("pr-number", inv.ev.PRNumberString())
	inv.rep.SetOutput("is-pull-request", fmt.Sprint(t.IsPR))
}
