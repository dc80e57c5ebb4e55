package iam_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	motoProdKey = "app/terraform.tfstate"
	motoPR      = 42 // the number of testdata/events/pull_request_opened.json
	motoSHA     = "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"
)

// motoStack is an S3-only stack (use_lockfile, lock-backend s3) on a moto
// server that enforces IAM: the layout whose policies moto can judge
// (it checks S3 ARNs but compares DynamoDB requests with resource "*").
type motoStack struct {
	t      *testing.T
	prod   string // the production key
	m      *testenv.MotoIAMServer
	bucket string
	dir    string // the root module; its backend block names the stack
	home   string
	stack  iam.Stack
	admin  storage.Bucket
	adminC *s3.Client
}

func newMotoStack(t *testing.T) *motoStack { return newMotoStackAt(t, motoProdKey, "") }

// newMotoStackAt is newMotoStack with a production key and key template.
func newMotoStackAt(t *testing.T, prod, template string) *motoStack {
	t.Helper()
	m := testenv.MotoIAM(t)
	s := &motoStack{t: t, m: m, prod: prod, bucket: "acme-tfstate-iam", dir: t.TempDir(), home: t.TempDir()}
	s.adminC = awsstore.NewS3Client(m.Admin)
	ctx := t.Context()
	if _, err := s.adminC.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.adminC.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(s.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	s.admin = awsstore.NewBucket(s.adminC, s.bucket)
	k, err := statekey.NewKeys(prod, template)
	if err != nil {
		t.Fatal(err)
	}
	s.stack = iam.Stack{Bucket: s.bucket, Keys: k, UseLockfile: true, LockBackend: "s3"}
	src := testenv.TerraformBackend(m.Endpoint, fmt.Sprintf("bucket = %q", s.bucket), fmt.Sprintf("key = %q", prod), "use_lockfile = true") +
		"\nresource \"terraform_data\" \"app\" {\n  input = \"app\"\n}\n"
	s.write("main.tf", src)
	s.write(filepath.Join(s.home, ".terraformrc"), "")
	return s
}

func (s *motoStack) write(name, content string) {
	s.t.Helper()
	if !filepath.IsAbs(name) {
		name = filepath.Join(s.dir, name)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// prodState is a Terraform state as production holds it.
const prodState = `{"version":4,"terraform_version":"1.11.0","serial":3,"lineage":"4b6c1c59-6f1e-4a3d-9a7e-2f6d1c0e5b11","outputs":{},"resources":[],"check_results":null}` + "\n"

// putAdmin writes an object as the admin.
func (s *motoStack) putAdmin(key, body string) {
	s.t.Helper()
	if _, err := s.admin.PutObject(s.t.Context(), key, []byte(body), storage.PutOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// body reads an object as the admin ("" when absent).
func (s *motoStack) body(key string) string {
	s.t.Helper()
	o, err := s.admin.GetObject(s.t.Context(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(o.Body)
}

// role is the generated role of job for this stack.
func (s *motoStack) role(job iam.Job, seed bool) iam.Role {
	s.t.Helper()
	in := iam.Input{Job: job, Stacks: []iam.Stack{s.stack}, Seed: seed, Repository: "acme/infra", DefaultBranch: "main", AccountID: "123456789012"}
	if job == iam.JobOps {
		in.Environment = "ops"
	}
	if job == iam.JobPlan && seed {
		in.Environment = "pr-seed" // the gated seed role
	}
	r, err := iam.Generate(in)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// user creates an IAM user whose only policy is p.
func (s *motoStack) user(name string, p iam.Policy) testenv.Keys {
	s.t.Helper()
	doc, err := json.Marshal(p)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.m.User(s.t, name, string(doc))
}

// env is the environment of a CI step run as the user with keys.
func (s *motoStack) env(k testenv.Keys, event, payload, ref string) []string {
	abs, err := filepath.Abs(filepath.Join("..", "ci", "testdata", "events", payload))
	if err != nil {
		s.t.Fatal(err)
	}
	files := s.t.TempDir()
	var fileCmds []string
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"} {
		path := filepath.Join(files, strings.ToLower(f))
		s.write(path, "")
		fileCmds = append(fileCmds, f+"="+path)
	}
	return append(append(s.m.Env(k), fileCmds...), "GITHUB_ACTIONS=true",
		"PATH="+os.Getenv("PATH"), "HOME="+s.home, "TMPDIR="+os.TempDir(),
		"TF_CLI_CONFIG_FILE="+filepath.Join(s.home, ".terraformrc"), "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
		"GITHUB_EVENT_NAME="+event, "GITHUB_EVENT_PATH="+abs, "GITHUB_REPOSITORY=acme/infra",
		"GITHUB_RUN_ID=9001", "GITHUB_RUN_ATTEMPT=1", "GITHUB_SHA="+motoSHA, "GITHUB_REF="+ref, "GITHUB_ACTOR=octocat")
}

// run runs a program in the stack's directory; it returns the exit code
// and the combined output.
func (s *motoStack) run(env []string, name string, args ...string) (int, string) {
	s.t.Helper()
	cmd := exec.CommandContext(s.t.Context(), name, args...)
	cmd.Dir, cmd.Env = s.dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		s.t.Fatalf("failed to run %s: %v", name, err)
	}
	return 0, out.String()
}

// mustRun is run that fails the test on a non-zero exit.
func (s *motoStack) mustRun(env []string, name string, args ...string) string {
	s.t.Helper()
	code, out := s.run(env, name, args...)
	if code != 0 {
		s.t.Fatalf("%s %s: exit %d:\n%s", filepath.Base(name), strings.Join(args, " "), code, out)
	}
	return out
}
