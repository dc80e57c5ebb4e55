package cli

import (
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

// stackNeeds says which parts of a stack a command cannot do without.
type stackNeeds int

const (
	// needBucket: the command opens the bucket (and table).
	needBucket stackNeeds = 1 << iota
	// needKey: the command works on the production key and its PR keys.
	needKey
)

// StackOptions are the stacks a command works on: the working directories
// and their backend "s3" blocks, with explicit settings on top. Only what
// the command needs is required and validated.
type StackOptions struct {
	Stacks    []backend.Stack // one per working directory; most commands use Stacks[0]
	Isolation string          // key | workspace

	needs                                                   stackNeeds
	workingDirectory, bucket, key, region, table, keyPrefix StringValue
	isolation, keyTemplate                                  StringValue
	useLockfile                                             BoolValue
}

// Main is the first stack: the one every command but cleanup works on.
func (o StackOptions) Main() backend.Stack { return o.Stacks[0] }

func (o *StackOptions) addFlags(s *settingSet) {
	o.workingDirectory = s.String(workingDirectorySetting)
	o.bucket = s.String(bucketSetting)
	o.key = s.String(keySetting)
	o.region = s.String(regionSetting)
	o.table = s.String(dynamoDBTableSetting)
	o.useLockfile = s.Bool(useLockfileSetting)
	o.isolation = s.String(isolationSetting)
	o.keyTemplate = s.String(keyTemplateSetting)
	o.keyPrefix = s.String(workspaceKeyPrefixSetting)
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
	for _, dir := range dirs {
		st, err := o.loadStack(l, dir)
		if err != nil {
			return err
		}
		o.Stacks = append(o.Stacks, st)
	}
	return nil
}

// loadStack reads dir's backend block and applies explicit settings on top.
func (o *StackOptions) loadStack(l *loader, dir string) (backend.Stack, error) {
	b, _, err := backend.Read(l.fsys, fsPath(dir))
	if err != nil {
		return backend.Stack{}, err
	}
	override := func(dst *string, v StringValue) {
		if s, ok := v.Get(); ok && s != "" {
			*dst = s
		}
	}
	override(&b.Bucket, o.bucket)
	override(&b.Key, o.key)
	override(&b.Region, o.region)
	override(&b.DynamoDBTable, o.table)
	override(&b.WorkspaceKeyPrefix, o.keyPrefix)
	st := backend.Stack{Dir: dir, Backend: b}
	if o.needs&needBucket != 0 {
		if b.Bucket == "" {
			return backend.Stack{}, usage.Errorf("no bucket: set --bucket (input bucket, PRSTATE_BUCKET) or a backend \"s3\" block in %s", dir)
		}
		if err := validateBucketName(b.Bucket); err != nil {
			return backend.Stack{}, err
		}
	}
	if o.needs&needKey == 0 {
		return st, nil
	}
	if b.Key == "" {
		return backend.Stack{}, usage.Errorf("no state key: set --key (input key, PRSTATE_KEY) or a backend \"s3\" block in %s", dir)
	}
	if o.needs&needBucket != 0 {
		if v, set, err := o.useLockfile.Get(); err != nil {
			return backend.Stack{}, err
		} else if set {
			st.Backend.UseLockfile = v
		}
	}
	if o.Isolation == "workspace" {
		st.Keys, err = statekey.NewWorkspaceKeys(b.Key, b.WorkspaceKeyPrefix)
	} else {
		st.Keys, err = statekey.NewKeys(b.Key, o.keyTemplate.Text())
	}
	if err != nil {
		return backend.Stack{}, err
	}
	return st, nil
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
