package cli

import (
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

// Config is a command's validated configuration.
type Config struct {
	Stacks        []backend.Stack // one per working directory; most commands use Stacks[0]
	Isolation     string          // key | workspace
	LockBackend   string          // dynamodb | s3
	Seed          string          // none | production
	LockTimeout   time.Duration
	LockPoll      time.Duration // how often a waiter reads the apply lock
	Lease         time.Duration
	MaxLease      time.Duration // the longest lease a waiter honours
	ClockSkew     time.Duration // allowed between a holder's clock and DynamoDB's
	Debug         bool
	OlderThan     time.Duration
	GitHubToken   string
	Comment       bool
	DryRun        bool
	Force         bool
	JSON          bool
	ExportEnv     bool
	AllowDiverged bool
	PR            int
	LockID        string
	BackendFile   string
	settings      *Settings
}

// Main is the first stack: the one every command but cleanup works on.
func (c Config) Main() backend.Stack { return c.Stacks[0] }

// Setting is the value of a setting of the command ("" when unset and
// without a default), for settings that need no validation here.
func (c Config) Setting(name string) string { return c.settings.optional(name) }

// LoadConfig resolves settings against the backend blocks found in the
// working directories (read from fsys, rooted at the filesystem root; relative
// directories are relative to cwd) and validates everything before any work
// starts.
func LoadConfig(s *Settings, fsys fs.FS, cwd string) (Config, error) {
	c := Config{settings: s}
	var err error
	bools := map[string]*bool{"comment": &c.Comment, "dry-run": &c.DryRun, "force": &c.Force, "json": &c.JSON, "export-env": &c.ExportEnv, "allow-diverged": &c.AllowDiverged, "debug": &c.Debug}
	for name, dst := range bools {
		if _, ok := s.vals[name]; ok {
			if *dst, err = s.Bool(name); err != nil {
				return Config{}, err
			}
		}
	}
	durs := map[string]*time.Duration{"lock-timeout": &c.LockTimeout, "lease": &c.Lease, "older-than": &c.OlderThan, "lock-poll": &c.LockPoll, "max-lease": &c.MaxLease, "clock-skew": &c.ClockSkew}
	for name, dst := range durs {
		if _, ok := s.vals[name]; ok {
			if *dst, err = s.Duration(name); err != nil {
				return Config{}, err
			}
		}
	}
	if _, ok := s.vals["pr"]; ok {
		if v, set := s.Lookup("pr"); set {
			if c.PR, err = statekey.ParsePR(v); err != nil {
				return Config{}, err
			}
		}
	}
	if _, set := s.lookupOptional("lock-poll"); !set {
		c.LockPoll = applylock.DefaultLockPoll
	} else if c.LockPoll < 10*time.Millisecond {
		return Config{}, usage.Errorf("invalid lock-poll %s: want at least 10ms", c.LockPoll)
	}
	c.GitHubToken = s.optional("github-token")
	c.LockID = s.optional("lock-id")
	c.BackendFile = s.optional("backend-config-file")
	c.Isolation = s.optional("isolation")
	if c.Isolation == "" {
		c.Isolation = "key"
	}
	if c.Isolation != "key" && c.Isolation != "workspace" {
		return Config{}, usage.Errorf("invalid isolation %q: want key or workspace", c.Isolation)
	}
	c.Seed = s.optional("seed")
	if c.Seed == "" || c.Seed == "false" {
		c.Seed = "none"
	}
	if c.Seed != "none" && c.Seed != "production" {
		return Config{}, usage.Errorf("invalid seed %q: want none or production", c.Seed)
	}
	dirs, err := workingDirectories(fsys, cwd, s.optional("working-directory"))
	if err != nil {
		return Config{}, err
	}
	for _, dir := range dirs {
		st, err := c.loadStack(fsys, cwd, dir)
		if err != nil {
			return Config{}, err
		}
		c.Stacks = append(c.Stacks, st)
	}
	lb := s.optional("lock-backend")
	switch lb {
	case "", "auto":
		c.LockBackend = "s3"
		if c.Main().Backend.DynamoDBTable != "" {
			c.LockBackend = "dynamodb"
		}
	case "s3":
		c.LockBackend = "s3"
	case "dynamodb":
		if c.Main().Backend.DynamoDBTable == "" {
			return Config{}, usage.Errorf("lock-backend dynamodb needs a dynamodb-table")
		}
		c.LockBackend = "dynamodb"
	default:
		return Config{}, usage.Errorf("invalid lock-backend %q: want auto, dynamodb or s3", lb)
	}
	return c, nil
}

// backendArgs maps the explicit prstate settings to the backend arguments
// they set; they win over everything the backend resolution reads.
var backendArgs = []struct{ setting, arg string }{
	{"bucket", "bucket"}, {"key", "key"}, {"region", "region"}, {"dynamodb-table", "dynamodb_table"},
	{"workspace-key-prefix", "workspace_key_prefix"}, {"use-lockfile", "use_lockfile"},
}

// loadStack resolves the backend of the working directory dir as
// terraform and tofu do (see package backend), the explicit settings on
// top, and builds its key scheme.
func (c Config) loadStack(fsys fs.FS, cwd, dir string) (backend.Stack, error) {
	s := c.settings
	bin, err := backend.ParseBinary(s.optional("binary"))
	if err != nil {
		return backend.Stack{}, err
	}
	var overrides []backend.Override
	for _, a := range backendArgs {
		v, ok := s.lookupOptional(a.setting)
		if !ok || v == "" {
			continue
		}
		val := cty.StringVal(v)
		if a.setting == "use-lockfile" {
			b, err := s.Bool(a.setting)
			if err != nil {
				return backend.Stack{}, err
			}
			val = cty.BoolVal(b)
		}
		overrides = append(overrides, backend.Override{Name: a.arg, Value: val, From: s.Origin(a.setting)})
	}
	var isPRKey func(string) bool
	if c.Isolation != "workspace" {
		isPRKey = prKeyMatcher(s.optional("key-template"))
	}
	r, err := backend.Resolve(backend.Options{
		FS: fsys, Dir: fsPath(dir), DisplayDir: displayDir(cwd, dir), Binary: bin,
		BackendConfig: s.List("backend-config"), Env: s.env, Overrides: overrides,
		IsPRKey: isPRKey, IsPRWorkspace: isPRWorkspace,
	})
	if err != nil {
		return backend.Stack{}, err
	}
	b := backend.FromResolved(r)
	if err := validateBucketName(b.Bucket); err != nil {
		return backend.Stack{}, err
	}
	var keys statekey.Keys
	if c.Isolation == "workspace" {
		keys, err = statekey.NewWorkspaceKeys(b.Key, b.WorkspaceKeyPrefix)
		// PR workspaces are pr-N; production's state is its own workspace's.
		keys.Production = r.StateObjectKey()
	} else {
		// Outside the default workspace the PR key sits beside production's
		// state object, in the same workspace.
		keys, err = statekey.NewKeys(r.StateObjectKey(), s.optional("key-template"))
	}
	if err != nil {
		return backend.Stack{}, err
	}
	return backend.Stack{Dir: dir, Backend: b, Keys: keys, Resolved: r}, nil
}

// displayDir names a working directory in messages: relative to the
// current directory when it is inside it.
func displayDir(cwd, dir string) string {
	if rel, err := filepath.Rel(cwd, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return filepath.ToSlash(rel)
	}
	return dir
}

// isPRWorkspace recognises the workspaces of isolation workspace, pr-N: a
// workspace selected for a PR job is never production's.
func isPRWorkspace(ws string) bool {
	n, ok := strings.CutPrefix(ws, "pr-")
	return ok && n != "" && n[0] != '0' && strings.Trim(n, "0123456789") == ""
}

// prKeyMatcher recognises the keys the key template renders for a pull
// request, whatever the production key: a key an earlier init recorded
// that looks like one is not taken for production's (a production key
// that merely looks like one is refused too, which asks for the key
// instead of guessing).
func prKeyMatcher(template string) func(string) bool {
	if template == "" {
		template = statekey.DefaultKeyTemplate
	}
	var res []*regexp.Regexp
	for _, t := range []string{template, strings.TrimPrefix(strings.ReplaceAll(template, "{dir}/", ""), "/")} {
		var b strings.Builder
		b.WriteString("^")
		for rest := t; rest != ""; {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				b.WriteString(regexp.QuoteMeta(rest))
				break
			}
			b.WriteString(regexp.QuoteMeta(rest[:i]))
			rest = rest[i:]
			n := 1
			switch {
			case strings.HasPrefix(rest, "{dir}"):
				b.WriteString("(.*?)")
				n = len("{dir}")
			case strings.HasPrefix(rest, "{file}"):
				b.WriteString("([^/]+)")
				n = len("{file}")
			case strings.HasPrefix(rest, "{key}"):
				b.WriteString("(.+?)")
				n = len("{key}")
			case strings.HasPrefix(rest, "{pr}"):
				b.WriteString("([1-9][0-9]*)")
				n = len("{pr}")
			default:
				b.WriteString(regexp.QuoteMeta("{"))
			}
			rest = rest[n:]
		}
		b.WriteString("$")
		if re, err := regexp.Compile(b.String()); err == nil {
			res = append(res, re)
		}
	}
	return func(key string) bool {
		for _, re := range res {
			if re.MatchString(key) {
				return true
			}
		}
		return false
	}
}

// workingDirectories splits a comma/newline separated list and expands globs.
func workingDirectories(fsys fs.FS, cwd, spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		spec = "."
	}
	var dirs []string
	for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(cwd, f)
		}
		if !strings.ContainsAny(f, "*?[") {
			dirs = append(dirs, f)
			continue
		}
		matches, err := fs.Glob(fsys, fsPath(f))
		if err != nil {
			return nil, usage.Errorf("invalid working-directory glob %q: %v", f, err)
		}
		if len(matches) == 0 {
			return nil, usage.Errorf("working-directory glob %q matches nothing", f)
		}
		for _, m := range matches {
			if info, err := fs.Stat(fsys, m); err == nil && info.IsDir() {
				dirs = append(dirs, "/"+m)
			}
		}
	}
	return dirs, nil
}

// fsPath turns an absolute path into a path of an fs.FS rooted at "/".
func fsPath(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return path.Clean(p)
}

func validateBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return usage.Errorf("invalid bucket %q: must be 3 to 63 characters", b)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c >= 'A' && c <= 'Z') {
			return usage.Errorf("invalid bucket %q: unexpected character %q", b, c)
		}
	}
	return nil
}

func (s *Settings) optional(name string) string {
	v, _ := s.lookupOptional(name)
	return v
}

// lookupOptional is Lookup for settings a command may not register.
func (s *Settings) lookupOptional(name string) (string, bool) {
	if _, ok := s.vals[name]; !ok {
		return settingDefs[name].def, false
	}
	return s.Lookup(name)
}
