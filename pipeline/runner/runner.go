// Package runner tells the CI runner what a command did: outputs, saved
// state for a post step, exported environment, the step summary file and
// annotations. GitHub Actions gets its environment files and workflow
// commands (through go-githubactions), GitLab CI a dotenv file, a shell
// plain lines on stderr. What goes into the step summary and the pull
// request comment is rendered by package report. See ARCHITECTURE.md.
package runner

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/prstate/prstate/pipeline/escape"
	"github.com/sethvargo/go-githubactions"
)

// Reporter is the CI runtime as the commands see it.
type Reporter interface {
	SetOutput(name, value string)
	SaveState(name, value string)
	SetEnv(name, value string)
	AddStepSummary(markdown string)
	Notice(msg string)
	Warning(msg string)
	Error(msg string)
	Mask(secret string)
}

// New picks the reporter for the environment: GitHub Actions when
// GITHUB_ACTIONS=true, GitLab CI when GITLAB_CI=true, plain otherwise.
// Annotations go to stderr so stdout keeps only results.
func New(getenv func(string) string, stderr io.Writer) Reporter {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return &GitHub{a: githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stderr)), getenv: getenv}
	case getenv("GITLAB_CI") == "true":
		path := getenv("PRSTATE_DOTENV")
		if path == "" {
			path = "prstate.env"
		}
		return &GitLab{Plain: Plain{W: stderr}, Path: path}
	default:
		return &Plain{W: stderr}
	}
}

// GitHub writes GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, GITHUB_STEP_SUMMARY
// and workflow commands.
type GitHub struct {
	a      *githubactions.Action
	getenv func(string) string
	mu     sync.Mutex
	warned map[string]bool
}

// SetOutput sets a step output. SetOutput, SaveState and SetEnv write
// name<<DELIM, the value and DELIM (go-githubactions, a fixed delimiter):
// escape.Output keeps a value from ending itself early and writing another
// name.
func (g *GitHub) SetOutput(name, value string) {
	g.fileCommand("GITHUB_OUTPUT", "outputs", func() { g.a.SetOutput(escape.Output(name), escape.Output(value)) })
}

// SaveState saves a value for the post step.
func (g *GitHub) SaveState(name, value string) {
	g.fileCommand("GITHUB_STATE", "state for the post step", func() { g.a.SaveState(escape.Output(name), escape.Output(value)) })
}

// SetEnv exports an environment variable to the job's later steps.
func (g *GitHub) SetEnv(name, value string) {
	g.fileCommand("GITHUB_ENV", "exporting "+name, func() { g.a.SetEnv(escape.Output(name), escape.Output(value)) })
}

// AddStepSummary appends markdown to the job summary.
func (g *GitHub) AddStepSummary(markdown string) {
	g.fileCommand("GITHUB_STEP_SUMMARY", "job summaries", func() { g.a.AddStepSummary(markdown) })
}

// fileCommand runs write, which needs the file named by env. Some runners
// (GitHub Enterprise Server before job summaries, compatible runners) lack
// some of these files, and go-githubactions panics without them: the
// command's work is done by then, so skip the write and say so, once per file.
func (g *GitHub) fileCommand(env, what string, write func()) {
	if g.getenv != nil && g.getenv(env) == "" {
		g.warnOnce(env, fmt.Sprintf("%s is not set: this runner does not support %s; skipped", env, what))
		return
	}
	defer func() {
		if r := recover(); r != nil {
			g.warnOnce(env, fmt.Sprintf("failed to write %s: %v", env, r))
		}
	}()
	write()
}

func (g *GitHub) warnOnce(env, msg string) {
	g.mu.Lock()
	if g.warned == nil {
		g.warned = map[string]bool{}
	}
	first := !g.warned[env]
	g.warned[env] = true
	g.mu.Unlock()
	if first {
		g.Warning(msg)
	}
}

// Notice writes a notice annotation. For annotations go-githubactions
// encodes %, \r and \n as the toolkit does (%25, %0D, %0A), so a message
// is one line; escape.Annotation escapes the other control and bidi
// characters.
func (g *GitHub) Notice(msg string) { g.a.Noticef("%s", escape.Annotation(msg)) }

// Warning writes a warning annotation.
func (g *GitHub) Warning(msg string) { g.a.Warningf("%s", escape.Annotation(msg)) }

// Error writes an error annotation.
func (g *GitHub) Error(msg string) { g.a.Errorf("%s", escape.Annotation(msg)) }

// Mask hides secret in the rest of the job's log.
func (g *GitHub) Mask(secret string) {
	if secret != "" {
		g.a.AddMask(secret)
	}
}

// Plain prints annotations to W and drops the rest.
type Plain struct{ W io.Writer }

// SetOutput drops the output.
func (p *Plain) SetOutput(string, string) {}

// SaveState drops the value.
func (p *Plain) SaveState(string, string) {}

// SetEnv drops the variable.
func (p *Plain) SetEnv(string, string) {}

// AddStepSummary drops the summary.
func (p *Plain) AddStepSummary(string) {}

// Notice prints msg as a notice.
func (p *Plain) Notice(msg string) { fmt.Fprintln(p.W, "notice:", escape.Log(msg)) }

// Warning prints msg as a warning.
func (p *Plain) Warning(msg string) { fmt.Fprintln(p.W, "warning:", escape.Log(msg)) }

// Error prints msg as an error.
func (p *Plain) Error(msg string) { fmt.Fprintln(p.W, "error:", escape.Log(msg)) }

// Mask does nothing: a plain log has no masking.
func (p *Plain) Mask(string) {}

// GitLab writes outputs as PRSTATE_OUT_<NAME>=value lines to a dotenv file
// (declare it as artifacts:reports:dotenv). Later jobs get them as
// variables: outputs must not be named like settings (PRSTATE_<NAME>), or
// a later prstate would read the PR key back as its production key.
type GitLab struct {
	Plain
	Path string
	mu   sync.Mutex
	vals map[string]string
}

// GitLabOutputPrefix starts every output's name in the dotenv file.
const GitLabOutputPrefix = "PRSTATE_OUT_"

// GitLabOutputName is the dotenv name of an output: PRSTATE_OUT_<NAME>.
func GitLabOutputName(output string) string {
	return GitLabOutputPrefix + strings.ToUpper(strings.ReplaceAll(output, "-", "_"))
}

// SetOutput writes the output to the dotenv file as
// GitLabOutputName(name)=value.
func (g *GitLab) SetOutput(name, value string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.vals == nil {
		g.vals = map[string]string{}
	}
	g.vals[GitLabOutputName(name)] = escape.Output(value)
	names := make([]string, 0, len(g.vals))
	for n := range g.vals {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s\n", n, g.vals[n])
	}
	if err := os.WriteFile(g.Path, []byte(b.String()), 0o644); err != nil {
		g.Warning(fmt.Sprintf("failed to write %s: %v", g.Path, err))
	}
}
