package backend

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Options is what Resolve reads.
type Options struct {
	// FS holds the working directory. Absolute backend-config files and
	// TF_DATA_DIR are read from its root, so it is rooted at "/" when they
	// may be absolute.
	FS fs.FS
	// Dir is the working directory, a path in FS ("." for its root).
	Dir string
	// DisplayDir names the working directory in messages and sources
	// (default Dir), e.g. "infra".
	DisplayDir string
	// Binary picks the file rules (Auto: see Auto).
	Binary Binary
	// BackendConfig is what `init -backend-config` would be given, in order:
	// files (relative to the working directory) and key=value pairs.
	BackendConfig []string
	// Env reads TF_WORKSPACE and TF_DATA_DIR (nil: none set).
	Env func(string) string
	// Overrides are prstate's own settings (--bucket, --key, ...): they win
	// over everything else.
	Overrides []Override
	// IsPRKey tells a PR state key from production's: a key an earlier
	// init recorded is taken as production's only when it says no.
	IsPRKey func(key string) bool
	// IsPRWorkspace tells a PR workspace from production's: TF_WORKSPACE or
	// an environment file that selects one is passed over.
	IsPRWorkspace func(workspace string) bool
	// Require names the arguments that must end up set (nil: bucket and
	// key): a command that needs no bucket (prstate key) or no key (prstate
	// status) does not require it.
	Require []string
}

// Override is one explicit prstate setting for a backend argument.
type Override struct {
	Name  string    // the backend argument: bucket, key, region, dynamodb_table, ...
	Value cty.Value // cty.NilVal or null: not set
	From  string    // how the user set it, shown as its source: "--bucket", "PRSTATE_BUCKET", "input bucket"
}

// SourceKind says which of the inputs gave a setting.
type SourceKind int

// The inputs a setting can come from; FromNone when none set it.
const (
	FromNone              SourceKind = iota
	FromBlock                        // the backend block of a configuration file
	FromOverride                     // the backend block of an override file
	FromBackendConfigFile            // a backend-config file
	FromBackendConfigPair            // a backend-config key=value pair
	FromInitState                    // the record of an earlier init
	FromSetting                      // an explicit prstate setting
	FromEnv                          // an environment variable (TF_WORKSPACE)
	FromEnvironmentFile              // <data dir>/environment
	FromDefault                      // nothing chose: the default
)

// Source is where a setting came from.
type Source struct {
	Kind SourceKind
	File string // as messages show it
	Line int
	Item string // the pair, the variable or the prstate setting
}

func (s Source) String() string {
	switch s.Kind {
	case FromBlock:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	case FromOverride:
		return fmt.Sprintf("%s:%d (override file)", s.File, s.Line)
	case FromBackendConfigFile:
		return fmt.Sprintf("backend-config file %s:%d", s.File, s.Line)
	case FromBackendConfigPair:
		return "backend-config " + s.Item
	case FromInitState:
		return s.File + " (recorded by an earlier init)"
	case FromSetting, FromEnv:
		return s.Item
	case FromEnvironmentFile:
		return s.File
	case FromDefault:
		return "default"
	}
	return ""
}

// Setting is one resolved backend argument.
type Setting struct {
	Name  string
	Value cty.Value // null: unset by the last source that named it
	From  Source
	expr  string // an expression prstate could not evaluate alone
}

// Resolved is a working directory's backend configuration, resolved.
type Resolved struct {
	binary        Binary
	block         string // where the backend block is, "" without one
	blockFile     string
	dir           string
	settings      map[string]Setting
	workspace     string
	workspaceFrom Source
	initState     *InitState
	notes         []string
}

// Resolve resolves the backend configuration of a working directory (see
// the package documentation for the order) and checks it: bad input is a
// *usage.Error (exit 2), one line naming the file and the fix.
func Resolve(o Options) (*Resolved, error) {
	display := o.DisplayDir
	if display == "" {
		display = o.Dir
	}
	entries, err := fs.ReadDir(o.FS, o.Dir)
	if err != nil {
		return nil, configErrorf("cannot read working directory %s: %v", display, unwrapPathError(err))
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	bin, blk, err := pickBlock(o.FS, o.Dir, display, names, o.Binary)
	if err != nil {
		return nil, err
	}
	r := &Resolved{binary: bin, dir: display, settings: map[string]Setting{}}
	if blk != nil {
		switch {
		case blk.typ == "cloud":
			return nil, configErrorf("%s: a cloud block stores state in HCP Terraform: prstate works with backend \"s3\" only", blk.where())
		case blk.typ != "s3":
			return nil, configErrorf("%s: backend %q: prstate works with backend \"s3\" only", blk.where(), blk.typ)
		}
		r.block, r.blockFile = blk.where(), blk.file
		for _, a := range blk.attrs {
			if err := r.set(a); err != nil {
				return nil, err
			}
		}
	}
	items, err := backendConfigItems(o.FS, o.Dir, display, o.BackendConfig)
	if err != nil {
		return nil, err
	}
	for _, a := range items {
		if err := r.set(a); err != nil {
			return nil, err
		}
	}
	rec, err := ReadInitState(o.FS, o.Dir, display, o.Env)
	if err != nil {
		return nil, err
	}
	r.initState = rec
	r.fillFromInitState(rec, o.IsPRKey)
	for _, ov := range o.Overrides {
		if ov.Value == cty.NilVal || ov.Value.IsNull() {
			continue
		}
		if err := r.set(attr{name: ov.Name, value: ov.Value, from: Source{Kind: FromSetting, Item: ov.From}}); err != nil {
			return nil, err
		}
	}
	var notes []string
	r.workspace, r.workspaceFrom, notes, err = selectWorkspace(o.FS, o.Dir, display, o.Env, o.IsPRWorkspace)
	if err != nil {
		return nil, err
	}
	r.notes = append(r.notes, notes...)
	require := o.Require
	if require == nil {
		require = []string{"bucket", "key"}
	}
	if err := r.check(require); err != nil {
		return nil, err
	}
	return r, nil
}

// pickBlock reads the backend block under bin's rules; under Auto see Auto.
func pickBlock(fsys fs.FS, dir, display string, names []string, bin Binary) (Binary, *block, error) {
	if bin != Auto {
		blk, err := readBlock(fsys, dir, display, names, bin)
		return bin, blk, err
	}
	tf, tfErr := readBlock(fsys, dir, display, names, Terraform)
	if !hasTofuFiles(names) {
		return Terraform, tf, tfErr
	}
	to, toErr := readBlock(fsys, dir, display, names, OpenTofu)
	switch {
	case tfErr != nil && toErr != nil:
		return Terraform, nil, tfErr
	case tfErr != nil:
		// terraform cannot read this directory; tofu can.
		return OpenTofu, to, nil
	case toErr != nil:
		return Terraform, tf, nil
	case tf == nil:
		return OpenTofu, to, nil
	case sameBlock(tf, to):
		return Terraform, tf, nil
	}
	where := func(b *block) string {
		if b == nil {
			return "none"
		}
		return b.where()
	}
	return Auto, nil, configErrorf("terraform and tofu read different backend blocks in %s (terraform: %s, tofu: %s): set binary (input binary, --binary, PRSTATE_BINARY) to terraform or tofu", display, where(tf), where(to))
}

// sameBlock tells whether two blocks configure the same backend.
func sameBlock(a, b *block) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.typ != b.typ || len(a.attrs) != len(b.attrs) {
		return false
	}
	byName := map[string]attr{}
	for _, x := range a.attrs {
		byName[x.name] = x
	}
	for _, y := range b.attrs {
		x, ok := byName[y.name]
		if !ok || x.expr != y.expr || (x.value == cty.NilVal) != (y.value == cty.NilVal) {
			return false
		}
		if x.value != cty.NilVal && !x.value.RawEquals(y.value) {
			return false
		}
	}
	return true
}

// set records a, converted to the backend's type for it.
func (r *Resolved) set(a attr) error {
	if !hclsyntax.ValidIdentifier(a.name) {
		return configErrorf("invalid backend argument %q in %s", a.name, a.from)
	}
	if s, ok := s3Schema[a.name]; ok && a.value != cty.NilVal {
		v, err := conform(a.value, s)
		if err != nil {
			return configErrorf("invalid %s in %s: %v", a.name, a.from, err)
		}
		a.value = v
	}
	r.settings[a.name] = Setting{Name: a.name, Value: a.value, From: a.from, expr: a.expr}
	return nil
}

// fillFromInitState takes from an earlier init's record what the block and
// backend-config leave unset, when they leave the bucket or the key unset:
// what a bare `terraform plan` after that init would use. A recorded PR key
// is not production's and is never taken.
func (r *Resolved) fillFromInitState(rec *InitState, isPRKey func(string) bool) {
	if rec == nil {
		return
	}
	if rec.Type != "s3" {
		r.notes = append(r.notes, fmt.Sprintf("%s records backend %q, not s3: ignored", rec.Path, rec.Type))
		return
	}
	if r.String("bucket") != "" && r.String("key") != "" {
		return
	}
	for _, name := range rec.Names() {
		if _, set := r.settings[name]; set {
			continue
		}
		v := rec.Config[name]
		if name == "key" && isPRKey != nil && isPRKey(stringOf(v)) {
			r.notes = append(r.notes, fmt.Sprintf("%s records the pull request key %s, not production's: ignored", rec.Path, stringOf(v)))
			continue
		}
		r.settings[name] = Setting{Name: name, Value: v, From: Source{Kind: FromInitState, File: rec.Path}}
	}
}

// check refuses what would leave the PR backend file incomplete or wrong,
// and a required argument (bucket, key) that nothing set.
func (r *Resolved) check(require []string) error {
	for _, name := range r.allNames() {
		s := r.settings[name]
		if s.expr != "" {
			return configErrorf("%s: %s = %s: prstate cannot evaluate this expression: pass %s to prstate as %s", s.From, name, s.expr, name, SettingHint)
		}
	}
	for _, name := range require {
		if r.String(name) != "" {
			continue
		}
		what := name
		if name == "key" {
			what = "state key"
		}
		if r.block == "" {
			return configErrorf("no backend \"s3\" block in %s and no %s: pass your -backend-config file or pairs to prstate as %s", r.dir, what, SettingHint)
		}
		return configErrorf("backend \"s3\" block in %s sets no %s: pass your -backend-config file or pairs to prstate as %s", r.blockFile, what, SettingHint)
	}
	return nil
}

func (r *Resolved) allNames() []string {
	names := make([]string, 0, len(r.settings))
	for n := range r.settings {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Names lists the settings that are set, bucket, key and region first,
// then by name: the order of the PR backend file.
func (r *Resolved) Names() []string {
	var names []string
	for _, n := range []string{"bucket", "key", "region"} {
		if _, ok := r.Lookup(n); ok {
			names = append(names, n)
		}
	}
	for _, n := range r.allNames() {
		if n == "bucket" || n == "key" || n == "region" {
			continue
		}
		if _, ok := r.Lookup(n); ok {
			names = append(names, n)
		}
	}
	return names
}

// Lookup returns a setting that is set (not null).
func (r *Resolved) Lookup(name string) (Setting, bool) {
	s, ok := r.settings[name]
	if !ok || s.Value == cty.NilVal || s.Value.IsNull() {
		return Setting{}, false
	}
	return s, true
}

// Value returns a setting's value, cty.NilVal when unset.
func (r *Resolved) Value(name string) cty.Value {
	s, _ := r.Lookup(name)
	return s.Value
}

// String returns a string setting, "" when unset.
func (r *Resolved) String(name string) string { return stringOf(r.Value(name)) }

// Bool returns a bool setting, false when unset.
func (r *Resolved) Bool(name string) bool {
	v := r.Value(name)
	return v != cty.NilVal && v.Type() == cty.Bool && v.True()
}

// Source says where a setting came from ("infra/main.tf:3",
// "backend-config file infra/prod.s3.tfbackend:1", "--bucket", ...), ""
// when it is unset.
func (r *Resolved) Source(name string) string {
	s, ok := r.Lookup(name)
	if !ok {
		return ""
	}
	return s.From.String()
}

// SourceOf is Source as a value, for callers that tell the kinds apart.
func (r *Resolved) SourceOf(name string) (Source, bool) {
	s, ok := r.Lookup(name)
	return s.From, ok
}

// Bucket is the bucket setting.
func (r *Resolved) Bucket() string { return r.String("bucket") }

// Key is the key setting.
func (r *Resolved) Key() string { return r.String("key") }

// Region is the region setting.
func (r *Resolved) Region() string { return r.String("region") }

// DynamoDBTable is the dynamodb_table setting.
func (r *Resolved) DynamoDBTable() string { return r.String("dynamodb_table") }

// UseLockfile reports whether use_lockfile is set.
func (r *Resolved) UseLockfile() bool { return r.Bool("use_lockfile") }

// Encrypt reports whether encrypt is set.
func (r *Resolved) Encrypt() bool { return r.Bool("encrypt") }

// KMSKeyID is the kms_key_id setting.
func (r *Resolved) KMSKeyID() string { return r.String("kms_key_id") }

// WorkspaceKeyPrefix is workspace_key_prefix, or its default env:.
func (r *Resolved) WorkspaceKeyPrefix() string {
	if p := r.String("workspace_key_prefix"); p != "" {
		return p
	}
	return DefaultWorkspaceKeyPrefix
}

// EndpointS3 is endpoints.s3, else the legacy endpoint.
func (r *Resolved) EndpointS3() string { return r.endpoint("s3", "endpoint") }

// EndpointDynamoDB is endpoints.dynamodb, else the legacy dynamodb_endpoint.
func (r *Resolved) EndpointDynamoDB() string { return r.endpoint("dynamodb", "dynamodb_endpoint") }

func (r *Resolved) endpoint(name, legacy string) string {
	if v := r.Value("endpoints"); v != cty.NilVal && v.Type().IsObjectType() && v.Type().HasAttribute(name) {
		if s := stringOf(v.GetAttr(name)); s != "" {
			return s
		}
	}
	return r.String(legacy)
}

// UsePathStyle is use_path_style, or the legacy force_path_style.
func (r *Resolved) UsePathStyle() bool { return r.Bool("use_path_style") || r.Bool("force_path_style") }

// Workspace is the selected workspace.
func (r *Resolved) Workspace() string { return r.workspace }

// WorkspaceSource says what selected the workspace: TF_WORKSPACE, the
// environment file, or default.
func (r *Resolved) WorkspaceSource() string { return r.workspaceFrom.String() }

// KeyFor is the key setting that puts the selected workspace's state at
// the object key object: object without the workspace's
// <workspace_key_prefix>/<workspace>/ (nothing in the default workspace).
func (r *Resolved) KeyFor(object string) string {
	return strings.TrimPrefix(object, WorkspaceObjectKey(r.WorkspaceKeyPrefix(), r.workspace, ""))
}

// StateObjectKey is the object that holds the selected workspace's state.
func (r *Resolved) StateObjectKey() string {
	return WorkspaceObjectKey(r.WorkspaceKeyPrefix(), r.workspace, r.Key())
}

// Binary is whose file rules found the block.
func (r *Resolved) Binary() Binary { return r.binary }

// Block is where the backend block is ("infra/main.tf:2"), "" without one.
func (r *Resolved) Block() string { return r.block }

// InitState is the record of an earlier init, nil without one.
func (r *Resolved) InitState() *InitState { return r.initState }

// Notes are what resolution passed over, for diagnostics.
func (r *Resolved) Notes() []string { return append([]string(nil), r.notes...) }

// Sensitive lists the values of sensitive settings (secret keys, tokens),
// for a caller to mask in its output.
func (r *Resolved) Sensitive() []string {
	var out []string
	for _, n := range r.allNames() {
		s, ok := r.Lookup(n)
		if !ok {
			continue
		}
		sch := s3Schema[n]
		if sch.sensitive {
			out = append(out, stringOf(s.Value))
		}
		for nn, ns := range sch.nested {
			if ns.sensitive && s.Value.Type().IsObjectType() && s.Value.Type().HasAttribute(nn) {
				out = append(out, stringOf(s.Value.GetAttr(nn)))
			}
		}
	}
	return out
}

func stringOf(v cty.Value) string {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}
