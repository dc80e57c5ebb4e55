package cli

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

const backendTF = `
terraform {
  backend "s3" {
    bucket         = "acme-tfstate"
    key            = "app/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "tf-locks"
    use_lockfile   = true
    endpoints = {
      s3       = "http://127.0.0.1:9000"
      dynamodb = "http://127.0.0.1:9001"
    }
  }
}
resource "terraform_data" "x" {}
`

func loadTestConfig(t *testing.T, fsys fstest.MapFS, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	getenv := func(k string) string { return env[k] }
	var c Config
	groups := []optionGroup{c.stack(needBucket | needKey), use(&c.LockStoreOptions), use(&c.PlanOptions), use(&c.LockTimeoutOptions), c.prEvent(), use(&c.DryRunOptions), use(&c.SweepOptions)}
	l := &loader{fsys: fsys, cwd: "/repo", workspace: "/repo", env: getenv, cfg: &c, event: ci.Once(getenv, nil)}
	_, err := loadConfig(groups, newSettingSet(fs, getenv), args, l)
	return c, err
}

func TestLoadConfigFromBackendBlock(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"repo/main.tf": {Data: []byte(backendTF)}}
	c, err := loadTestConfig(t, fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := c.Main().Backend
	if b.Credentials == nil {
		t.Fatal("no credential settings read")
	}
	b.Credentials = nil
	want := backend.Backend{Bucket: "acme-tfstate", Key: "app/terraform.tfstate", Region: "eu-west-1", DynamoDBTable: "tf-locks", UseLockfile: true, EndpointS3: "http://127.0.0.1:9000", EndpointDynamoDB: "http://127.0.0.1:9001"}
	if b != want {
		t.Fatalf("backend = %+v\nwant %+v", b, want)
	}
	if c.LockBackend != "dynamodb" || c.LockTimeout != 30*time.Minute || c.Seed != "none" {
		t.Fatalf("config = %+v", c)
	}
	if k, _ := c.Main().Keys.Render(42); k != "app/pr-42/terraform.tfstate" {
		t.Fatalf("PR key %q", k)
	}
}

func TestLoadConfigPrecedence(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"repo/main.tf": {Data: []byte(backendTF)}}
	env := map[string]string{"PRSTATE_KEY": "env/terraform.tfstate", "INPUT_KEY": "input/terraform.tfstate", "INPUT_BUCKET": "input-bucket", "INPUT_LOCK-TIMEOUT": "2m", "INPUT_DRY-RUN": "true", "INPUT_OLDER-THAN": "7d"}
	c, err := loadTestConfig(t, fsys, env, "--region", "us-east-2", "--lock-backend", "s3")
	if err != nil {
		t.Fatal(err)
	}
	b := c.Main().Backend
	if b.Key != "env/terraform.tfstate" || b.Bucket != "input-bucket" || b.Region != "us-east-2" || c.LockBackend != "s3" || c.LockTimeout != 2*time.Minute || !c.DryRun || c.OlderThan != 7*24*time.Hour {
		t.Fatalf("config = %+v backend %+v", c, b)
	}
	c, err = loadTestConfig(t, fsys, env, "--key", "flag/terraform.tfstate")
	if err != nil || c.Main().Backend.Key != "flag/terraform.tfstate" {
		t.Fatalf("flag did not win: %+v %v", c.Main().Backend, err)
	}
}

func TestLoadConfigStacksGlob(t *testing.T) {
	t.Parallel()
	stack := func(key string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("terraform {\n  backend \"s3\" {\n    bucket = \"acme\"\n    key = \"" + key + "\"\n  }\n}\n")}
	}
	fsys := fstest.MapFS{"repo/stacks/a/main.tf": stack("a/terraform.tfstate"), "repo/stacks/b/main.tf": stack("b/terraform.tfstate"), "repo/stacks/README.md": {Data: []byte("x")}}
	c, err := loadTestConfig(t, fsys, nil, "--working-directory", "stacks/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Stacks) != 2 || c.Stacks[0].Backend.Key != "a/terraform.tfstate" || c.Stacks[1].Backend.Key != "b/terraform.tfstate" || c.LockBackend != "s3" {
		t.Fatalf("stacks = %+v", c.Stacks)
	}
}

func TestLoadConfigBadInput(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"repo/main.tf": {Data: []byte(backendTF)}, "repo/empty/x.txt": {Data: []byte("")}, "repo/broken/main.tf": {Data: []byte("terraform {")}}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--working-directory", "empty"}, "no bucket"},
		{[]string{"--working-directory", "empty", "--bucket", "acme"}, "no state key"},
		{[]string{"--working-directory", "missing"}, "cannot read working directory"},
		{[]string{"--working-directory", "broken"}, "cannot parse"},
		{[]string{"--key", "app/../prod.tfstate"}, ".."},
		{[]string{"--bucket", "a"}, "invalid bucket"},
		{[]string{"--pr", "0"}, "invalid pull request number"},
		{[]string{"--pr", "-3"}, "invalid pull request number"},
		{[]string{"--pr", "abc"}, "invalid pull request number"},
		{[]string{"--isolation", "branch"}, "invalid isolation"},
		{[]string{"--seed", "staging"}, "invalid seed"},
		{[]string{"--lock-timeout", "soon"}, "invalid lock-timeout"},
		{[]string{"--lock-backend", "etcd"}, "invalid lock-backend"},
		{[]string{"--dynamodb-table", "", "--lock-backend", "dynamodb", "--working-directory", "empty", "--bucket", "acme", "--key", "k"}, "needs a dynamodb-table"},
		{[]string{"--key-template", "{dir}/pr/{file}"}, "exactly once"},
	}
	for _, c := range cases {
		_, err := loadTestConfig(t, fsys, nil, c.args...)
		var ue *usage.Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v; want usage error containing %q", c.args, err, c.want)
		}
	}
}
