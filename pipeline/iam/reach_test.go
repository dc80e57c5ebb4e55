package iam

import (
	"errors"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/usage"
)

// TestIamCheckPRReachRefuses: the check Generate runs on every role
// refuses a role a pull_request job can assume (the PR trust, or an
// environment's trust without the ref, which a PR job gets by naming the
// environment) that reads a production name, and passes one that reads
// only PR names or that only default-branch runs can assume.
func TestIamCheckPRReachRefuses(t *testing.T) {
	st := Stack{Bucket: "acme-tfstate", Region: "eu-west-1", Keys: keys(t, "app/terraform.tfstate", "", false), DynamoDBTable: "acme-tflocks", LockBackend: "dynamodb"}
	n := namesOf(st, "123456789012")
	all := []names{n}
	obj := func(g glob) glob { return g.prepend("s3://acme-tfstate/") }
	item := func(g glob) glob { return g.prepend("dynamodb://acme-tflocks/") }
	in := Input{Job: JobCleanup, Repository: "acme/infra"}
	for _, c := range []struct {
		name  string
		sub   string
		reads []glob
		want  string // "" passes
	}{
		{"PR trust reads production's state", "repo:acme/infra:pull_request:ref:refs/pull/*/merge", []glob{obj(n.prState), obj(literal(n.state))}, "state"},
		{"PR trust reads production's digest item", "repo:acme/infra:pull_request:ref:refs/pull/*/merge", []glob{item(literal(n.digest))}, "digest item"},
		{"PR trust scans the table", "repo:acme/infra:pull_request:ref:refs/pull/*/merge", []glob{{"dynamodb://acme-tflocks/", ""}}, "lock item"},
		{"default-form PR trust reads the ledger", "repo:acme/infra:pull_request", []glob{obj(literal(n.ledgerObject))}, "ledger"},
		{"environment without the ref reads the state", "repo:acme/infra:environment:production", []glob{obj(literal(n.state))}, "state"},
		{"any subject of the repository reads a backup", "repo:acme/infra:*", []glob{obj(n.backup)}, "state backups"},
		{"PR trust reads PR names only", "repo:acme/infra:pull_request:ref:refs/pull/*/merge", []glob{obj(n.prState), obj(n.prSeedRecord), item(n.prDigest)}, ""},
		{"main in production reads the state", "repo:acme/infra:environment:production:ref:refs/heads/main", []glob{obj(literal(n.state))}, ""},
	} {
		role := Role{Job: in.Job, Trust: trustPolicy("123456789012", c.sub)}
		err := checkPRReach(in, role, c.reads, all)
		var ue *usage.Error
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), "'s "+c.want)):
			t.Errorf("%s: %v, want a refusal naming the %s", c.name, err, c.want)
		}
	}
}
