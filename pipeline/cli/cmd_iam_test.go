package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/iam"
)

// iamApp is a checkout with two stacks whose backend blocks name the
// bucket, key and table.
func iamApp(t *testing.T) *testApp {
	t.Helper()
	a := newTestApp(t, Store{})
	for _, dir := range []string{"network", "app"} {
		if err := os.Mkdir(filepath.Join(a.dir, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		tf := `terraform {
  backend "s3" {
    bucket         = "acme-tfstate"
    key            = "` + dir + `/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "acme-tflocks"
  }
}
`
		if err := os.WriteFile(filepath.Join(a.dir, dir, "main.tf"), []byte(tf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestIamCommandJSON(t *testing.T) {
	a := iamApp(t)
	a.actions("pull_request", "pull_request_opened.json")
	if code := a.run("iam", "--job", "plan", "--json", "--working-directory", "network,app", "--account-id", "123456789012"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	var role iam.Role
	if err := json.Unmarshal(a.stdout.Bytes(), &role); err != nil {
		t.Fatalf("%v: %s", err, a.stdout.String())
	}
	if role.Subject != "repo:acme/infra:pull_request:ref:refs/pull/*/merge" {
		t.Errorf("subject %q", role.Subject)
	}
	out := a.stdout.String()
	for _, want := range []string{"arn:aws:s3:::acme-tfstate/network/pr-*/terraform.tfstate", "arn:aws:s3:::acme-tfstate/app/pr-*/terraform.tfstate", "acme-tfstate/app/pr-*/terraform.tfstate-md5", "arn:aws:dynamodb:eu-west-1:123456789012:table/acme-tflocks"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in %s", want, out)
		}
	}
}

// TestIamCommandSubjects: the default branch comes from the event, the
// environment from its setting, the repository from either; every subject
// is the customized one that names the ref (include_claim_keys repo,
// context, ref), and the output says how to set that customization.
func TestIamCommandSubjects(t *testing.T) {
	a := iamApp(t)
	a.actions("push", "push.json")
	for _, c := range []struct {
		args []string
		want string
		op   string
	}{
		{[]string{"--job", "apply"}, "repo:acme/infra:ref:refs/heads/main:ref:refs/heads/main", "StringEquals"},
		{[]string{"--job", "apply", "--environment", "production"}, "repo:acme/infra:environment:production:ref:refs/heads/main", "StringEquals"},
		{[]string{"--job", "sweep", "--default-branch", "trunk"}, "repo:acme/infra:ref:refs/heads/trunk:ref:refs/heads/trunk", "StringEquals"},
		{[]string{"--job", "ops", "--environment", "ops", "--repository", "acme/other"}, "repo:acme/other:environment:ops:ref:refs/heads/main", "StringEquals"},
		{[]string{"--job", "cleanup"}, "repo:acme/infra:pull_request:ref:refs/pull/*/merge", "StringLike"},
		{[]string{"--job", "plan", "--seed", "production", "--environment", "pr-seed"}, "repo:acme/infra:environment:pr-seed:ref:refs/pull/*/merge", "StringLike"},
		{[]string{"--job", "apply", "--environment", "production", "--repository-id", "456789", "--owner-id", "123456"}, "repo:acme@123456/infra@456789:environment:production:ref:refs/heads/main", "StringEquals"},
	} {
		if code := a.run(append([]string{"iam", "--working-directory", "app", "--account-id", "123456789012"}, c.args...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, a.stderr.String())
		}
		out := a.stdout.String()
		if !strings.Contains(out, "# trusted OIDC subject: "+c.want+"\n") || !strings.Contains(out, `"`+c.op+`": {`) || !strings.Contains(out, `"token.actions.githubusercontent.com:sub": [`+"\n            \""+c.want+`"`) {
			t.Errorf("%v: want subject %s (%s) in\n%s", c.args, c.want, c.op, out)
		}
		if !strings.Contains(out, "# permissions policy (") || !strings.Contains(out, "# trust policy (") {
			t.Errorf("%v: headers missing:\n%s", c.args, out)
		}
		if !strings.Contains(out, "# setup: once per repository, make the OIDC subject include the ref: gh api --method PUT repos/") ||
			!strings.Contains(out, "/actions/oidc/customization/sub -F use_default=false -f 'include_claim_keys[]=repo' -f 'include_claim_keys[]=context' -f 'include_claim_keys[]=ref'") {
			t.Errorf("%v: no customization call:\n%s", c.args, out)
		}
	}
}

// TestIamCommandImmutableFromEvent: the repository and owner IDs of the
// event payload select the immutable subject form.
func TestIamCommandImmutableFromEvent(t *testing.T) {
	a := iamApp(t)
	a.actions("push", "push.json")
	payload := filepath.Join(a.dir, "event.json")
	if err := os.WriteFile(payload, []byte(`{"ref":"refs/heads/main","after":"9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912","repository":{"id":456789,"default_branch":"main","owner":{"id":123456}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	a.env["GITHUB_EVENT_PATH"] = payload
	if code := a.run("iam", "--working-directory", "app", "--account-id", "123456789012", "--job", "sweep"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if want := "# trusted OIDC subject: repo:acme@123456/infra@456789:ref:refs/heads/main:ref:refs/heads/main\n"; !strings.Contains(a.stdout.String(), want) {
		t.Errorf("want %q in\n%s", want, a.stdout.String())
	}
}

// TestIamCommandSeedTellsTheTruth: the gated seed role says that a seeded
// PR state holds production's secrets and that every PR author can read
// it, and how to protect its environment; the plan role says the same of
// every PR state.
func TestIamCommandSeedTellsTheTruth(t *testing.T) {
	a := iamApp(t)
	a.actions("pull_request", "pull_request_opened.json")
	if code := a.run("iam", "--working-directory", "app", "--account-id", "123456789012", "--job", "plan", "--seed", "production", "--environment", "pr-seed"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	out := a.stdout.String()
	for _, want := range []string{"secrets included, and every PR author of the repository can read it", "required reviewers", "repos/acme/infra/environments/pr-seed", "SeedReadProductionState"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if code := a.run("iam", "--working-directory", "app", "--account-id", "123456789012", "--job", "plan"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if out := a.stdout.String(); !strings.Contains(out, "holds production's secrets, and every PR author can read it") || strings.Contains(out, `"arn:aws:s3:::acme-tfstate/app/terraform.tfstate"`) {
		t.Errorf("plan role:\n%s", out)
	}
}

// TestIamCommandBadInput: one line on stderr naming the problem, exit 2,
// nothing on stdout (outside Actions: there an annotation repeats the line).
func TestIamCommandBadInput(t *testing.T) {
	a := iamApp(t)
	a.env["GITHUB_REPOSITORY"] = "acme/infra"
	acct := []string{"--account-id", "123456789012"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--job", "deploy"}, "unknown job"},
		{nil, "no job"},
		{append([]string{"--job", "ops"}, acct...), "needs --environment"},
		{append([]string{"--job", "plan", "--environment", "x"}, acct...), "gated seed role: add --seed production"},
		{append([]string{"--job", "plan", "--key-template", "{key}{pr}"}, acct...), "{pr}"},
		{append([]string{"--job", "plan", "--seed", "production"}, acct...), "needs --environment NAME"}, // a PR-trusted role that reads production
		{[]string{"--job", "plan", "--account-id", "*"}, "invalid account-id"},
		{[]string{"--job", "plan", "--account-id", "12345678901"}, "invalid account-id"},
		{append([]string{"--job", "apply", "--environment", "prod:ref:refs/heads/main"}, acct...), "invalid environment"},
		{append([]string{"--job", "apply", "--environment", "prod uction"}, acct...), "invalid environment"},
		{append([]string{"--job", "apply", "--default-branch", "main:x"}, acct...), "invalid default-branch"},
		{append([]string{"--job", "apply", "--default-branch", "ma*n"}, acct...), "invalid default-branch"},
		{append([]string{"--job", "apply", "--repository-id", "456789"}, acct...), "both --repository-id and --owner-id"},
		{append([]string{"--job", "apply", "--repository-id", "x1", "--owner-id", "2"}, acct...), "invalid GitHub ID"},
		{[]string{"--job", "apply"}, "set --account-id"}, // a lock table's ARN
		{append([]string{"--job", "cleanup", "--environment", "x"}, acct...), "trusted as pull_request"},
	} {
		code := a.run(append([]string{"iam", "--working-directory", "app"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(a.stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || a.stdout.Len() != 0 || !strings.HasPrefix(lines[0], "prstate: ") || !strings.Contains(lines[0], c.want) {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line saying %q", c.args, code, a.stderr.String(), a.stdout.String(), c.want)
		}
	}
}
