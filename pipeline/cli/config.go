package cli

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

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
	bools := map[string]*bool{"comment": &c.Comment, "dry-run": &c.DryRun, "force": &c.Force, "json": &c.JSON, "export-env": &c.ExportEnv, "allow-diverged": &c.AllowDiverged}
	for name, dst := range bools {
		if _, ok := s.vals[name]; ok {
			if *dst, err = s.Bool(name); err != nil {
				return Config{}, err
			}
		}
	}
	durs := map[string]*time.Duration{"lock-timeout": &c.LockTimeout, "lease": &c.Lease, "older-than": &c.OlderThan, "lock-poll": &c.LockPoll}
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
		st, err := c.loadStack(fsys, dir)
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

func (c Config) loadStack(fsys fs.FS, dir string) (backend.Stack, error) {
	s := c.settings
	b, _, err := backend.Read(fsys, fsPath(dir))
	if err != nil {
		return backend.Stack{}, err
	}
	override := func(dst *string, name string) {
		if v, ok := s.lookupOptional(name); ok && v != "" {
			*dst = v
		}
	}
	override(&b.Bucket, "bucket")
	override(&b.Key, "key")
	override(&b.Region, "region")
	override(&b.DynamoDBTable, "dynamodb-table")
	override(&b.WorkspaceKeyPrefix, "workspace-key-prefix")
	if _, set := s.lookupOptional("use-lockfile"); set {
		if b.UseLockfile, err = s.Bool("use-lockfile"); err != nil {
			return backend.Stack{}, err
		}
	}
	switch {
	case b.Bucket == "":
		return backend.Stack{}, usage.Errorf("no bucket: set --bucket (input bucket, PRSTATE_BUCKET) or a backend \"s3\" block in %s", dir)
	case b.Key == "":
		return backend.Stack{}, usage.Errorf("no state key: set --key (input key, PRSTATE_KEY) or a backend \"s3\" block in %s", dir)
	}
	if err := validateBucketName(b.Bucket); err != nil {
		return backend.Stack{}, err
	}
	var keys statekey.Keys
	if c.Isolation == "workspace" {
		keys, err = statekey.NewWorkspaceKeys(b.Key, b.WorkspaceKeyPrefix)
	} else {
		keys, err = statekey.NewKeys(b.Key, s.optional("key-template"))
	}
	if err != nil {
		return backend.Stack{}, err
	}
	return backend.Stack{Dir: dir, Backend: b, Keys: keys}, nil
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
