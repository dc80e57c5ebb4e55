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
	b := backend.FromResolved(r)
	for _, e := range []struct {
		name string
		ep   backend.Endpoint
		used bool
	}{{"S3 endpoint", b.S3Endpoint(inv.app.Env), true}, {"DynamoDB endpoint", b.DynamoDBEndpoint(inv.app.Env), r.DynamoDBTable() != ""}} {
		switch {
		case !e.used:
		case e.ep.URL != "":
			add(e.name, e.ep.URL, endpointSource(e.ep))
		case inv.app.Env("AWS_ENDPOINT_URL") != "" && inv.app.Env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != "true":
			add(e.name, inv.app.Env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL (the AWS SDK's, for every service)")
		}
	}
	add("workspace", r.Workspace(), r.WorkspaceSource())
	add("lock-backend", inv.cfg.LockBackend, orDefault(inv.cfg.LockBackendOrigin(), "the default (auto)"))
	add("isolation", inv.cfg.Isolation, orDefault(inv.cfg.IsolationOrigin(), "the default"))
	return out
}

// endpointSource says what set an endpoint, and what it wins over.
func endpointSource(e backend.Endpoint) string {
	if e.Over == "" {
		return e.Source
	}
	return e.Source + " (wins over " + e.Over + ", as in terraform)"
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
