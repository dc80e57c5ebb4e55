package doctor_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// iamStack is an S3-only stack (use_lockfile, lock-backend s3) on a moto
// server that enforces IAM: the layout whose policies moto can judge (it
// checks S3 ARNs but compares DynamoDB requests with resource "*").
type iamStack struct {
	m      *testenv.MotoIAMServer
	bucket string
	keys   statekey.Keys
}

func newIAMStack(t *testing.T) *iamStack {
	t.Helper()
	m := testenv.MotoIAM(t)
	s := &iamStack{m: m, bucket: "prstate-doctor-iam"}
	admin := awsstore.NewS3Client(m.Admin)
	ctx := t.Context()
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(s.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.keys, err = statekey.NewKeys(stateKey, ""); err != nil {
		t.Fatal(err)
	}
	return s
}

// policy is the role `prstate iam --job job` writes for the stack, plus
// doctor's scratch prefix, less the actions drop names on resources
// ending in dropOn.
func (s *iamStack) policy(t *testing.T, job iam.Job, dropOn string, drop ...string) string {
	t.Helper()
	in := iam.Input{Job: job, Stacks: []iam.Stack{{Bucket: s.bucket, Keys: s.keys, UseLockfile: true, LockBackend: "s3"}}, Repository: "acme/infra", AccountID: "123456789012"}
	if job == iam.JobOps {
		in.Environment = "ops"
	}
	role, err := iam.Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	p := role.Policy
	for i, st := range p.Statement {
		if dropOn != "" && slices.ContainsFunc(st.Resource, func(r string) bool { return strings.HasSuffix(r, dropOn) }) {
			p.Statement[i].Action = slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return slices.Contains(drop, a) })
		}
	}
	p.Statement = slices.DeleteFunc(p.Statement, func(st iam.Statement) bool { return len(st.Action) == 0 })
	p.Statement = append(p.Statement,
		iam.Statement{Sid: "DoctorScratch", Effect: "Allow", Action: []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}, Resource: []string{"arn:aws:s3:::" + s.bucket + "/" + doctor.ScratchPrefix(stateKey) + "*"}},
		iam.Statement{Sid: "DoctorScratchList", Effect: "Allow", Action: []string{"s3:ListBucketVersions"}, Resource: []string{"arn:aws:s3:::" + s.bucket}})
	doc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// doctor runs doctor for job as a user with policy.
func (s *iamStack) doctor(t *testing.T, user string, job iam.Job, policy string) doctor.Report {
	t.Helper()
	keys := s.m.User(t, user, policy)
	b := awsstore.NewBucket(s.m.S3(keys), s.bucket)
	tg := target(t, b, nil, "s3")
	tg.Stack.Keys = s.keys
	tg.Stack.Backend.UseLockfile = true
	return run(t, tg, doctor.Options{Job: job})
}

// realFailures drops what moto alone fails: its signature check refuses a
// query with an escaped "/" or ":" when it enforces IAM, so its listings
// of such prefixes fail (AWS lists them).
func realFailures(rep doctor.Report) []string {
	var out []string
	for _, f := range failures(rep) {
		if !strings.Contains(f, "SignatureDoesNotMatch") {
			out = append(out, f)
		}
	}
	return out
}

// TestDoctorIAMRoles: under moto with IAM enforced, each job's role as
// `prstate iam` writes it passes doctor's probes of that job; the settings
// a job role may not read are warnings, not failures.
func TestDoctorIAMRoles(t *testing.T) {
	s := newIAMStack(t)
	for _, job := range iam.Jobs {
		rep := s.doctor(t, "doctor-"+string(job), job, s.policy(t, job, ""))
		if f := realFailures(rep); len(f) > 0 {
			t.Errorf("%s: failures: %v", job, f)
		}
		want(t, rep, "conditional create", doctor.OK)
		if r := row(t, rep, "permissions"); !strings.Contains(r.Detail, string(job)+" job") {
			t.Errorf("%s: permissions %q", job, r.Detail)
		}
	}
}

// TestDoctorIAMMissingPermission: the apply role without s3:PutObject on
// the ledger fails that row, naming the action and the resource.
func TestDoctorIAMMissingPermission(t *testing.T) {
	s := newIAMStack(t)
	ledger := statekey.LedgerObjectKey(stateKey)
	rep := s.doctor(t, "apply-no-ledger", iam.JobApply, s.policy(t, iam.JobApply, ledger, "s3:PutObject"))
	r := want(t, rep, "s3:PutObject", doctor.Fail, "access denied: s3:PutObject on s3://"+s.bucket+"/"+ledger, "the ledger")
	if !strings.Contains(r.Fix, "arn:aws:s3:::"+s.bucket+"/"+ledger) || !strings.Contains(r.Fix, "apply role") {
		t.Errorf("fix %q", r.Fix)
	}
	if f := realFailures(rep); len(f) != 1 {
		t.Errorf("want the ledger row alone to fail: %v", f)
	}
	want(t, rep, "access: the ledger", doctor.OK, "s3:GetObject on")
	want(t, rep, "versioning", doctor.Warn, "not checked", "access denied: s3:GetBucketVersioning")
	if !rep.Failed() {
		t.Fatal("not failed")
	}
}
