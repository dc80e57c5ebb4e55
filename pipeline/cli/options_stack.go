package cli

import (
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
	"github.com/zclconf/go-cty/cty"
)

// stackNeeds says which parts of a stack a command cannot do without.
type stackNeeds int

const (
	// needBucket: the command opens the bucket (and table).
	needBucket stackNeeds = 1 << iota
	// needKey: the command works on the production key and its PR keys.
	needKey
	// needOne: the command works on one stack; several are refused, never
	// silently narrowed to the first.
	needOne
)

// StackOptions are the stacks a command works on: the working directories
// and their backend configuration, resolved as terraform and tofu resolve
// it, with explicit settings on top. Only what the command needs is
// required and validated.
type StackOptions struct {
	Stacks    []statekey.Stack // one per working directory; most commands use Stacks[0]
	Isolation string           // key | workspace

	needs                                                   stackNeeds
	workingDirectory, bucket, key, region, table, keyPrefix StringValue
	isolation, keyTemplate, binary                          StringValue
	backendConfig                                           ListValue
	useLockfile                                             BoolValue
}

// IsolationOrigin says how the user set isolation ("" when nothing did).
func (o StackOptions) IsolationOrigin() string { return o.isolation.Origin() }

// Main is the first stack: the one every command but cleanup works on.
func (o StackOptions) Main() statekey.Stack { return o.Stacks[0] }

func (o *StackOptions) addFlags(s *settingSet) {
	o.workingDirectory = s.String(workingDirectorySetting)
	o.backendConfig = s.List(backendConfigSetting)
	o.binary = s.String(binarySetting)
	o.bucket = s.String(bucketSetting)
	o.key = s.String(keySetting)
	o.region = s.String(regionSetting)
	o.table = s.String(dynamoDBTableSetting)
	o.keyTemplate = s.String(keyTemplateSetting) // also refuses a PR key as production's
	o.keyPrefix = s.String(workspaceKeyPrefixSetting)
	// Bound only where read, so --help lists only what the command reads.
	if o.needs&needKey != 0 {
		o.isolation = s.String(isolationSetting)
		if o.needs&needBucket != 0 {
			o.useLockfile = s.Bool(useLockfileSetting)
		}
	}
}

func (o *StackOptions) load(l *loader) error {
	if o.needs&needKey != 0 {
		o.Isolation = o.isolation.Text()
		if o.Isolation == "" {
			o.Isolation = "key"
		}
		if o.Isolation != "key" && o.Isolation != "workspace" {
			return usage.Errorf("invalid isolation %q: want key or workspace", o.Isolation)
		}
	}
	dirs, err := workingDirectories(l.fsys, l.cwd, l.workspace, o.workingDirectory.Text())
	if err != nil {
		return err
	}
	if o.needs&needOne != 0 && len(dirs) > 1 {
		return oneStackError(l.cwd, o.workingDirectory.Text(), dirs)
	}
	for _, dir := range dirs {
		st, err := o.loadStack(l, dir)
		if err != nil {
			return err
		}
		o.Stacks = append(o.Stacks, st)
	}
	return nil
}

// backendArg is an explicit prstate setting and the backend argument it
// sets.
type backendArg struct {
	arg string
	v   StringValue
}

// backendArgs are the explicit settings: they win over everything the
// backend resolution reads.
func (o *StackOptions) backendArgs() []backendArg {
	return []backendArg{{"bucket", o.bucket}, {"key", o.key}, {"region", o.region}, {"dynamodb_table", o.table}, {"workspace_key_prefix", o.keyPrefix}}
}

// loadStack resolves the backend of the working directory dir as
// terraform and tofu do (see package backend), the explicit settings on
// top, and builds its key scheme. Only what the command needs is required.
func (o *StackOptions) loadStack(l *loader, dir string) (statekey.Stack, error) {
	bin, err := backend.ParseBinary(o.binary.Text())
	if err != nil {
		return statekey.Stack{}, err
	}
	var overrides []backend.Override
	for _, a := range o.backendArgs() {
		if v, ok := a.v.Get(); ok && v != "" {
			overrides = append(overrides, backend.Override{Name: a.arg, Value: cty.StringVal(v), From: a.v.Origin()})
		}
	}
	if o.needs&needBucket != 0 && o.needs&needKey != 0 {
		if v, set, err := o.useLockfile.Get(); err != nil {
			return statekey.Stack{}, err
		} else if set {
			overrides = append(overrides, backend.Override{Name: "use_lockfile", Value: cty.BoolVal(v), From: o.useLockfile.Origin()})
		}
	}
	require := []string{} // not nil: nil would require both
	if o.needs&needBucket != 0 {
		require = append(require, "bucket")
	}
	if o.needs&needKey != 0 {
		require = append(require, "key")
	}
	var isPRKey func(string) bool
	if o.Isolation != "workspace" {
		isPRKey = statekey.TemplateMatcher(o.keyTemplate.Text())
	}
	r, err := backend.Resolve(backend.Options{
		FS: l.fsys, Dir: fsPath(dir), DisplayDir: displayDir(l.cwd, dir), Binary: bin,
		BackendConfig: o.backendConfig.Get(), Env: l.env, Overrides: overrides,
		IsPRKey: isPRKey, IsPRWorkspace: isPRWorkspace, Require: require,
	})
	if err != nil {
		return statekey.Stack{}, err
	}
	st := statekey.Stack{Dir: dir, Backend: backend.FromResolved(r), Resolved: r}
	if o.needs&needBucket != 0 {
		if err := validateBucketName(st.Backend.Bucket); err != nil {
			return statekey.Stack{}, err
		}
		creds, err := r.Credentials(l.env)
		if err != nil {
			return statekey.Stack{}, err
		}
		st.Backend.Credentials = &creds
	}
	if o.needs&needKey == 0 {
		return st, nil
	}
	if o.Isolation == "workspace" {
		st.Keys, err = statekey.NewWorkspaceKeys(st.Backend.Key, st.Backend.WorkspaceKeyPrefix)
		// PR workspaces are pr-N; production's state is its own workspace's.
		st.Keys.Production = r.StateObjectKey()
	} else {
		// Outside the default workspace the PR key sits beside production's
		// state object, in the same workspace.
		st.Keys, err = statekey.NewKeys(r.StateObjectKey(), o.keyTemplate.Text())
	}
	if err != nil {
		return statekey.Stack{}, err
	}
	return st, nil
}

func validateBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return usage.Errorf("invalid bucket %q: must be 3 to 63 characters", b)
	}
	for _, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != '_' && (c < 'A' || c > 'Z') {
			return usage.Errorf("invalid bucket %q: unexpected character %q", b, c)
		}
	}
	return nil
}
