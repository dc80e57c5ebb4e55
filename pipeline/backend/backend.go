package backend

import "github.com/zclconf/go-cty/cty"

// Backend is what the storage adapters and the lock code read of a
// resolved backend: the bucket, the production key setting, the lock
// settings and the endpoints.
type Backend struct {
	Bucket             string
	Key                string // the key setting (the state object outside the default workspace is statekey.Stack.Keys.Production)
	Region             string
	DynamoDBTable      string
	UseLockfile        bool
	WorkspaceKeyPrefix string
	EndpointS3         string
	EndpointDynamoDB   string
	// Credentials are the settings that decide the identity (see
	// Resolved.Credentials): set for stacks whose command opens storage,
	// nil for none (the SDK's default chain).
	Credentials *Credentials
}

// FromResolved is the Backend of a resolved configuration.
func FromResolved(r *Resolved) Backend {
	return Backend{
		Bucket: r.Bucket(), Key: r.Key(), Region: r.Region(), DynamoDBTable: r.DynamoDBTable(),
		UseLockfile: r.UseLockfile(), WorkspaceKeyPrefix: r.String("workspace_key_prefix"),
		EndpointS3: r.EndpointS3(), EndpointDynamoDB: r.EndpointDynamoDB(),
	}
}

// FromBackend is a Resolved holding b's settings alone, in the default
// workspace: for a Stack built without resolving a directory.
func FromBackend(b Backend) *Resolved {
	r := &Resolved{binary: Terraform, settings: map[string]Setting{}, workspace: DefaultWorkspace, workspaceFrom: Source{Kind: FromDefault}}
	set := func(name string, v cty.Value) {
		r.settings[name] = Setting{Name: name, Value: v, From: Source{Kind: FromSetting, Item: "prstate setting"}}
	}
	for name, v := range map[string]string{"bucket": b.Bucket, "key": b.Key, "region": b.Region, "dynamodb_table": b.DynamoDBTable, "workspace_key_prefix": b.WorkspaceKeyPrefix} {
		if v != "" {
			set(name, cty.StringVal(v))
		}
	}
	if b.UseLockfile {
		set("use_lockfile", cty.True)
	}
	ep := map[string]cty.Value{}
	if b.EndpointS3 != "" {
		ep["s3"] = cty.StringVal(b.EndpointS3)
	}
	if b.EndpointDynamoDB != "" {
		ep["dynamodb"] = cty.StringVal(b.EndpointDynamoDB)
	}
	if len(ep) > 0 {
		set("endpoints", cty.ObjectVal(ep))
	}
	return r
}
