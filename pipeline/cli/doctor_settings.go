package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/doctor"
)

// doctorSettings lists the backend configuration prstate resolved for st
// and where each setting came from: a prstate setting (flag, PRSTATE_*,
// action input), the backend "s3" block, the environment, or a default.
func (inv *invocation) doctorSettings(st backend.Stack, store Store) []doctor.Setting {
	s, b := inv.cfg.settings, st.Backend
	block := fmt.Sprintf("backend \"s3\" block in %s", inv.stackLabel(st))
	from := func(setting, value string) string {
		if src := s.source(setting); src != "" {
			return src
		}
		if value != "" {
			return block
		}
		return "the default"
	}
	var out []doctor.Setting
	add := func(name, value, source string) {
		out = append(out, doctor.Setting{Name: name, Value: value, Source: source})
	}
	add("bucket", b.Bucket, from("bucket", b.Bucket))
	add("key", b.Key, from("key", b.Key))
	region, regionFrom := b.Region, from("region", b.Region)
	if r, ok := store.Bucket.(interface{ Region() string }); ok && region == "" {
		region, regionFrom = r.Region(), envSource("AWS_REGION", "AWS_DEFAULT_REGION")
	}
	add("region", region, regionFrom)
	if b.DynamoDBTable != "" || s.source("dynamodb-table") != "" {
		add("dynamodb_table", b.DynamoDBTable, from("dynamodb-table", b.DynamoDBTable))
	}
	lockfile := ""
	if b.UseLockfile {
		lockfile = "true"
	}
	add("use_lockfile", fmt.Sprint(b.UseLockfile), from("use-lockfile", lockfile))
	if b.WorkspaceKeyPrefix != "" {
		add("workspace_key_prefix", b.WorkspaceKeyPrefix, from("workspace-key-prefix", b.WorkspaceKeyPrefix))
	}
	if e, src := endpoint(b.EndpointS3, block, "AWS_ENDPOINT_URL_S3"); e != "" {
		add("endpoints.s3", e, src)
	}
	if b.DynamoDBTable != "" {
		if e, src := endpoint(b.EndpointDynamoDB, block, "AWS_ENDPOINT_URL_DYNAMODB"); e != "" {
			add("endpoints.dynamodb", e, src)
		}
	}
	add("lock-backend", inv.cfg.LockBackend, orDefault(s.source("lock-backend"), "the default (auto)"))
	add("isolation", inv.cfg.Isolation, orDefault(s.source("isolation"), "the default"))
	return out
}

// source says how the user set a prstate setting ("" when they did not).
func (s *Settings) source(name string) string {
	v, ok := s.vals[name]
	switch {
	case !ok:
		return ""
	case v.set:
		return "--" + name
	}
	upper := strings.ToUpper(name)
	if env := "PRSTATE_" + strings.ReplaceAll(upper, "-", "_"); s.env(env) != "" {
		return env
	}
	if s.env("INPUT_"+upper) != "" {
		return "input " + name
	}
	return ""
}

// endpoint is the endpoint the SDK uses: the environment's wins over the
// backend block's (see OpenAWS).
func endpoint(fromBlock, block, env string) (string, string) {
	for _, name := range []string{env, "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(name); v != "" {
			return v, name
		}
	}
	return fromBlock, block
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
