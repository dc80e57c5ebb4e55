package cli

import (
	"errors"
	"flag"
	"io/fs"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

// optionGroup is a group of settings a command uses: it binds them as
// flags, and after parsing loads and validates them, before any work.
type optionGroup interface {
	addFlags(s *settingSet)
	load(l *loader) error
}

// Config is a command's validated configuration. A command declares the
// groups it uses (command.options, through use and stack): only those
// exist, and are bound, read and validated. The others stay nil, so a
// command that reads a group it did not declare fails at once (a nil
// dereference any test of that path shows), never silently reads zero
// values.
type Config struct {
	*StackOptions
	*EventOptions
	*LockStoreOptions
	*LockTimeoutOptions
	*LeaseOptions
	*LockIDOptions
	*GitHubOptions
	*CommentOptions
	*OutputOptions
	*PlanOptions
	*ForceOptions
	*DryRunOptions
	*SweepOptions
	*SupersedeOptions
	*IAMOptions
	*JobOptions
	*DoctorEnvOptions
	*PlanJSONOptions
	*VerifyPlanOptions
	*StacksOptions
}

// stack is the StackOptions group with what the command needs of it.
func (c *Config) stack(needs stackNeeds) *StackOptions {
	c.StackOptions = &StackOptions{needs: needs}
	return c.StackOptions
}

// prEvent is the EventOptions group with --pr: for the commands that act
// on one pull request's key (plan, key, cleanup, doctor), and those that
// must refuse one (lock, run, unlock: ApplyEventGuard). The others
// declare use(&c.EventOptions), which reads the event alone.
func (c *Config) prEvent() *EventOptions {
	c.EventOptions = &EventOptions{prFlag: true}
	return c.EventOptions
}

// use declares the group *g: it comes into existence, to be bound and
// loaded.
func use[T any, G interface {
	*T
	optionGroup
}](g *G) optionGroup {
	*g = new(T)
	return *g
}

// loader is what option groups load from.
type loader struct {
	fsys      fs.FS  // rooted at "/"
	cwd       string // relative working directories start here
	workspace string // working directories stay inside it
	env       ci.Env // TF_WORKSPACE, TF_DATA_DIR
	cfg       *Config
	event     func() (ci.Event, error) // the event of this process, read once
}

// loadConfig binds groups to fs's flags (and env), parses args and loads
// every group in order: later groups may use earlier ones (StackOptions
// comes first).
func loadConfig(groups []optionGroup, s *settingSet, args []string, l *loader) ([]string, error) {
	for _, g := range groups {
		g.addFlags(s)
	}
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usage.Error{Msg: err.Error()}
	}
	for _, g := range groups {
		if err := g.load(l); err != nil {
			return nil, err
		}
	}
	return s.fs.Args(), nil
}
