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
	if role.Subject != "repo:acme/infra:pull_request" {
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
// environment from its setting, the repository from either.
func TestIamCommandSubjects(t *testing.T) {
	a := iamApp(t)
	a.actions("push", "push.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--job", "apply"}, "repo:acme/infra:ref:refs/heads/main"},
		{[]string{"--job", "apply", "--environment", "production"}, "repo:acme/infra:environment:production"},
		{[]string{"--job", "sweep", "--default-branch", "trunk"}, "repo:acme/infra:ref:refs/heads/trunk"},
		{[]string{"--job", "ops", "--environment", "ops", "--repository", "acme/other"}, "repo:acme/other:environment:ops"},
		{[]string{"--job", "cleanup"}, "repo:acme/infra:pull_request"},
	} {
		if code := a.run(append([]string{"iam", "--working-directory", "app"}, c.args...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, a.stderr.String())
		}
		out := a.stdout.String()
		if !strings.Contains(out, "# trusted OIDC subject: "+c.want+"\n") || !strings.Contains(out, `"token.actions.githubusercontent.com:sub": [`+"\n            \""+c.want+`"`) {
			t.Errorf("%v: want subject %s in\n%s", c.args, c.want, out)
		}
		if !strings.Contains(out, "# permissions policy (") || !strings.Contains(out, "# trust policy (") {
			t.Errorf("%v: headers missing:\n%s", c.args, out)
		}
	}
}

// TestIamCommandBadInput: one line on stderr, exit 2, nothing on stdout
// (outside Actions: there an annotation repeats the line).
func TestIamCommandBadInput(t *testing.T) {
	a := iamApp(t)
	a.env["GITHUB_REPOSITORY"] = "acme/infra"
	for _, args := range [][]string{
		{"--job", "deploy"},
		{},
		{"--job", "ops"},
		{"--job", "plan", "--environment", "x"},
		{"--job", "plan", "--key-template", "{key}{pr}"},
	} {
		code := a.run(append([]string{"iam", "--working-directory", "app"}, args...)...)
		lines := strings.Split(strings.TrimSpace(a.stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || a.stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line", args, code, a.stderr.String(), a.stdout.String())
		}
	}
}
