// Package cli is prstate's command line: flags, settings, the CI runtime and
// the storage adapters wired to the pipeline steps.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/usage"
)

// App holds everything a command touches outside itself, so tests inject it.
type App struct {
	Env      ci.Env
	Stdout   io.Writer
	Stderr   io.Writer
	FS       fs.FS // rooted at "/"
	Cwd      string
	ReadFile ci.ReadFileFunc
	// Clock is read for every time and wait of a command (Now, Sleep).
	clock.Clock
	// Open connects to a stack's bucket and table (AWS by default).
	Open func(ctx context.Context, b backend.Backend) (Store, error)
	// Demo plays `prstate demo` with this App's clock and output, in
	// memory when endpoint is empty (package demo; main wires it).
	Demo func(ctx context.Context, app *App, endpoint string) error

	debug bool // --debug: raw storage errors too
}

// New returns the App of the real process.
func New() *App {
	cwd, _ := os.Getwd()
	return &App{
		Env: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, FS: os.DirFS("/"), Cwd: cwd,
		ReadFile: os.ReadFile, Clock: clock.Real, Open: OpenAWS,
	}
}

// command is one subcommand: the option groups it uses and what it does.
type command struct {
	name    string
	summary string
	options func(c *Config) []optionGroup // StackOptions first
	run     func(ctx context.Context, inv *invocation) error
}

func commands() map[string]command {
	cmds := map[string]command{}
	for _, c := range []command{keyCommand, planCommand, lockCommand, unlockCommand, runCommand, statusCommand, forceUnlockCommand, cleanupCommand, sweepCommand, iamCommand, doctorCommand, verifyPlanCommand, stacksCommand} {
		cmds[c.name] = c
	}
	return cmds
}

// exitCoder lets an error pick the process exit code.
type exitCoder interface{ ExitCode() int }

// Run runs the CLI and returns the process exit code: 0 done, 1 failure,
// 2 bad input or configuration, 3 lock wait timed out.
func (a *App) Run(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == guardianName {
		return runGuardian(args[1:], a.Stderr) // `run` started us to guard its command
	}
	rep := runner.New(a.Env, a.Stderr)
	err := a.run(ctx, args, rep)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintln(a.Stderr, "prstate:", escape.Log(msg))
	if raw := storage.RawDetail(err); raw != "" && a.debug {
		fmt.Fprintln(a.Stderr, "prstate: debug:", escape.Log(raw))
	}
	if a.Env("GITHUB_ACTIONS") == "true" {
		rep.Error(msg)
	}
	var ue *usage.Error
	var ec exitCoder
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ec):
		return ec.ExitCode()
	default:
		return 1
	}
}

func (a *App) run(ctx context.Context, args []string, rep runner.Reporter) error {
	if a.Env("STATE_prstate_post") == "true" {
		return a.postStep(ctx, rep)
	}
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || (name == "" && len(args) > 0 && (args[0] == "-h" || args[0] == "--help")) {
		a.usage()
		return nil
	}
	if name == "demo" {
		return a.demo(ctx, args)
	}
	// Before any validation: a main step that fails on bad input must not
	// have its post step run the command again.
	a.markMainStep(rep)
	if name == "" {
		v, _ := commandSetting.lookup(a.Env)
		if name = strings.TrimSpace(v); name == "" {
			name = "auto"
		}
	}
	for _, env := range []string{githubTokenSetting.InputName(), githubTokenSetting.EnvName()} {
		if tok := a.Env(env); tok != "" {
			rep.Mask(tok)
		}
	}
	event := ci.Once(a.Env, a.ReadFile)
	if name == "auto" {
		ev, err := event()
		if err != nil {
			return err
		}
		if name, err = AutoCommand(ev); err != nil {
			return err
		}
		fmt.Fprintf(a.Stderr, "prstate: command auto: %s event -> %s\n", ev.Name, name)
	}
	cmd, ok := commands()[name]
	if !ok {
		return &usage.Error{Msg: fmt.Sprintf("unknown command %q (run prstate help)", name)}
	}
	inv, err := a.prepare(cmd, args, rep, event)
	if err != nil {
		return err
	}
	return cmd.run(ctx, inv)
}

// AutoCommand picks the command for an event under `command: auto`.
func AutoCommand(ev ci.Event) (string, error) {
	switch {
	case ev.Closed():
		return "cleanup", nil
	case ev.IsPullRequest():
		return "plan", nil
	case ev.OnDefaultBranch():
		return "lock", nil
	case ev.Kind == ci.KindSchedule:
		return "sweep", nil
	}
	what := ev.Name
	if ev.Kind == ci.KindPush {
		what = "push to " + ev.Ref + " (not the default branch " + ev.DefaultBranch + ")"
	}
	return "", &usage.Error{Msg: fmt.Sprintf("command auto has nothing to do on %s: set the command input", what)}
}

func (a *App) usage() {
	fmt.Fprintln(a.Stdout, "usage: prstate <command> [flags]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(a.Stdout, "  %-13s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(a.Stdout, "  %-13s %s\n", "demo", "play a whole PR lifecycle in memory (--endpoint URL: against S3/DynamoDB)")
	fmt.Fprintln(a.Stdout, "\nEvery flag is also PRSTATE_<NAME> and the action input <name>. prstate <command> -h lists its flags.")
}
