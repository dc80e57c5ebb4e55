package cli

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

type settingKind int

const (
	kindString settingKind = iota
	kindBool
	kindDuration
	kindInt
	kindList // repeatable flag; PRSTATE_ and INPUT_ values split by newlines and commas
)

type settingDef struct {
	kind  settingKind
	def   string
	usage string
}

// settingDefs: one kebab-case name per setting, used as the CLI flag, the
// action input (INPUT_<NAME>, hyphens kept) and PRSTATE_<NAME> (upper snake).
var settingDefs = map[string]settingDef{
	"command":              {kindString, "auto", "what to do: auto, key, plan, lock, unlock, run, status, force-unlock, cleanup, sweep, iam, doctor"},
	"working-directory":    {kindString, ".", "Terraform root module(s) whose backend \"s3\" block is read; for cleanup several, comma/newline separated or a glob"},
	"bucket":               {kindString, "", "S3 bucket of the state"},
	"key":                  {kindString, "", "production state key, e.g. app/terraform.tfstate"},
	"region":               {kindString, "", "AWS region (default: the backend block, then the SDK chain)"},
	"dynamodb-table":       {kindString, "", "DynamoDB lock table (Terraform's dynamodb_table)"},
	"use-lockfile":         {kindBool, "", "Terraform's S3 lockfile (use_lockfile)"},
	"lock-backend":         {kindString, "auto", "apply lock store: auto (dynamodb when a table is set), dynamodb, s3"},
	"isolation":            {kindString, "key", "PR state isolation: key (a PR key beside production) or workspace (Terraform workspace pr-N)"},
	"key-template":         {kindString, statekey.DefaultKeyTemplate, "PR key template, placeholders {dir} {file} {key} {pr}"},
	"workspace-key-prefix": {kindString, "", "Terraform's workspace_key_prefix (default env:)"},
	"seed":                 {kindString, "none", "seed a new PR state from: none, production"},
	"lock-timeout":         {kindDuration, "30m", "how long to wait for a lock before exit 3"},
	"lease":                {kindDuration, "", "apply lock lease (default 5m for run, 6h for lock)"},
	"lock-poll":            {kindDuration, "500ms", "how often a waiter reads the apply lock (plus up to 25% jitter)"},
	"max-lease":            {kindDuration, "8h", "the longest apply lock lease a waiter honours: a holder asking for more is taken over after this"},
	"clock-skew":           {kindDuration, "1m", "how far a holder's clock may be off DynamoDB's: a waiter of a lock without heartbeats adds it to the lease"},
	"debug":                {kindBool, "false", "print the storage SDK's raw error detail (request IDs)"},
	"github-token":         {kindString, "", "GitHub token for the API (run liveness, PR states, comments)"},
	"comment":              {kindBool, "false", "keep a sticky comment on the pull request"},
	"dry-run":              {kindBool, "false", "print what would be deleted, delete nothing"},
	"older-than":           {kindDuration, "", "sweep: also remove PR states not written for this long"},
	"force":                {kindBool, "false", "delete a PR state that was applied to; force-unlock a live holder"},
	"pr":                   {kindInt, "", "pull request number (outside CI, or to override)"},
	"lock-id":              {kindString, "", "lock ID (unlock, force-unlock)"},
	"json":                 {kindBool, "false", "print JSON"},
	"export-env":           {kindBool, "false", "export TF_CLI_ARGS_init (and TF_WORKSPACE) through GITHUB_ENV"},
	"backend-config-file":  {kindString, "", "where plan writes the backend config (default: <working-directory>/prstate.s3.tfbackend)"},
	"backend-config":       {kindList, "", "what you pass to terraform init -backend-config: a file (relative to the working directory) or key=value; repeat it (input and PRSTATE_BACKEND_CONFIG: newline or comma separated)"},
	"binary":               {kindString, "auto", "whose configuration file rules apply: auto, terraform (*.tf, *.tf.json) or tofu (also *.tofu, *.tofu.json)"},
	"allow-diverged":       {kindBool, "false", "apply a commit that diverged from the last applied one"},
	"coalesce":             {kindBool, "true", "waiters announce themselves: an older commit that a newer waiting one contains skips, so only the newest applies"},
	"endpoint":             {kindString, "", "demo: run against this S3/DynamoDB API instead of in memory"},
	"job":                  {kindString, "", "the CI job: plan, cleanup, apply, sweep, ops (iam: whose role to print; doctor: whose permissions to probe, default from the event)"},
	"repository":           {kindString, "", "iam: owner/name of the repository the role trusts (default GITHUB_REPOSITORY)"},
	"default-branch":       {kindString, "", "iam: the default branch apply and sweep run on (default: the event's, else main)"},
	"environment":          {kindString, "", "iam: the protected environment apply, sweep or ops runs in (trusted instead of the branch)"},
	"account-id":           {kindString, "", "iam: the AWS account of the OIDC provider and lock table"},
}

// Settings resolves named settings: flag, then PRSTATE_<NAME>, then the
// action input INPUT_<NAME>, then the default.
type Settings struct {
	fs   *flag.FlagSet
	env  ci.Env
	vals map[string]*settingValue
}

type settingValue struct {
	val  string
	set  bool
	bool bool
	list []string // kindList: every value the flag was given, in order
}

func (v *settingValue) String() string { return v.val }
func (v *settingValue) Set(s string) error {
	v.val, v.set = s, true
	v.list = append(v.list, s)
	return nil
}
func (v *settingValue) IsBoolFlag() bool { return v.bool }

// NewSettings registers the named settings as flags of fs.
func NewSettings(fs *flag.FlagSet, env ci.Env, names ...string) *Settings {
	s := &Settings{fs: fs, env: env, vals: map[string]*settingValue{}}
	for _, name := range names {
		d, ok := settingDefs[name]
		if !ok {
			panic("unknown setting " + name)
		}
		v := &settingValue{bool: d.kind == kindBool}
		s.vals[name] = v
		usage := d.usage
		if d.def != "" {
			usage += fmt.Sprintf(" (default %s)", d.def)
		}
		fs.Var(v, name, usage)
	}
	return s
}

// Lookup returns the setting's value and whether anything set it.
func (s *Settings) Lookup(name string) (string, bool) {
	v, ok := s.vals[name]
	if !ok {
		panic("setting not registered: " + name)
	}
	if v.set {
		return v.val, true
	}
	upper := strings.ToUpper(name)
	if e := s.env("PRSTATE_" + strings.ReplaceAll(upper, "-", "_")); e != "" {
		return e, true
	}
	if e := s.env("INPUT_" + upper); e != "" {
		return strings.TrimSpace(e), true
	}
	return settingDefs[name].def, false
}

// envName is the setting's PRSTATE_ variable.
func envName(name string) string {
	return "PRSTATE_" + strings.ReplaceAll(strings.ToUpper(name), "-", "_")
}

// Origin says how the user set a setting, as messages name it: "--bucket",
// "PRSTATE_BUCKET" or "input bucket" ("" when nothing set it).
func (s *Settings) Origin(name string) string {
	v, ok := s.vals[name]
	switch {
	case !ok:
		return ""
	case v.set:
		return "--" + name
	case s.env(envName(name)) != "":
		return envName(name)
	case strings.TrimSpace(s.env("INPUT_"+strings.ToUpper(name))) != "":
		return "input " + name
	}
	return ""
}

// List returns a list setting: every --name flag in order; else
// PRSTATE_<NAME>, else the input, split by newlines and commas (outside
// quotes and brackets, so an HCL value stays whole); nil when unset or not
// registered.
func (s *Settings) List(name string) []string {
	v, ok := s.vals[name]
	switch {
	case !ok:
		return nil
	case v.set:
		return append([]string(nil), v.list...)
	case s.env(envName(name)) != "":
		return backend.SplitItems(s.env(envName(name)))
	}
	return backend.SplitItems(s.env("INPUT_" + strings.ToUpper(name)))
}

// String returns the setting's value or its default.
func (s *Settings) String(name string) string {
	v, _ := s.Lookup(name)
	return v
}

// Bool parses a boolean setting; "" is false.
func (s *Settings) Bool(name string) (bool, error) {
	v := s.String(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, usage.Errorf("invalid %s %q: want true or false", name, v)
	}
	return b, nil
}

// Duration parses a duration setting; "" is 0. Days are accepted ("7d").
func (s *Settings) Duration(name string) (time.Duration, error) {
	v := s.String(name)
	if v == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usage.Errorf("invalid %s %q: want a duration like 30s, 10m, 6h or 7d", name, v)
	}
	return d, nil
}

// SettingNames lists every setting name (flags, PRSTATE_ env, action inputs).
func SettingNames() []string {
	names := make([]string, 0, len(settingDefs))
	for n := range settingDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
