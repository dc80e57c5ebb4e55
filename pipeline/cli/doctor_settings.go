package cli

import (
	"os"
	"slices"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/statekey"
)

// doctorSettings lists the backend configuration prstate resolved for st
// as terraform would (backend.Resolved), with where each setting came
// from, then what the SDK and prstate add: the region and endpoints the
// requests really use, the workspace, lock-backend and isolation.
// Sensitive values are never shown.
func (inv *invocation) doctorSettings(st statekey.Stack, store Store) []doctor.Setting {
	r := st.Config()
	var out []doctor.Setting
	add := func(name, value, source string) {
		out = append(out, doctor.Setting{Name: name, Value: value, Source: source})
	}
	secret := r.Sensitive()
	for _, name := range r.Names() {
		v := backend.RenderValue(r.Value(name), backend.ForDisplay)
		if slices.Contains(secret, v) {
			v = "(sensitive)"
		}
		add(name, v, r.Source(name))
	}
	if rg, ok := store.Bucket.(interface{ Region() string }); ok && r.Region() == "" {
		add("region", rg.Region(), envSource("AWS_REGION", "AWS_DEFAULT_REGION"))
	}
	over := func(setting string) string {
		if setting != "" {
			return " (wins over the backend's " + setting + ")"
		}
		return ""
	}
	if e, src := sdkEndpoint("AWS_ENDPOINT_URL_S3"); e != "" {
		add("S3 endpoint", e, src+over(r.EndpointS3()))
	}
	if e, src := sdkEndpoint("AWS_ENDPOINT_URL_DYNAMODB"); e != "" && r.DynamoDBTable() != "" {
		add("DynamoDB endpoint", e, src+over(r.EndpointDynamoDB()))
	}
	add("workspace", r.Workspace(), r.WorkspaceSource())
	add("lock-backend", inv.cfg.LockBackend, orDefault(inv.cfg.LockBackendOrigin(), "the default (auto)"))
	add("isolation", inv.cfg.Isolation, orDefault(inv.cfg.IsolationOrigin(), "the default"))
	return out
}

// sdkEndpoint is the endpoint the environment points the SDK at, and the
// variable that set it (see OpenAWS).
func sdkEndpoint(name string) (string, string) {
	for _, n := range []string{name, "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(n); v != "" {
			return v, n
		}
	}
	return "", ""
}

func envSource(names ...string) string {
	for _, n := range names {
		if os.Getenv(n) != "" {
			return n
		}
	}
	return "the AWS SDK's default chain (profile)"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
