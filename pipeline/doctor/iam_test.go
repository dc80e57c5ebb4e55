package doctor_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// applyPolicy is the apply job's S3 permissions on an S3-locked stack
// (as `prstate iam --job apply` grants them), plus doctor's scratch
// prefix, without s3:PutObject on the ledger.
func applyPolicy(bucket string) string {
	obj := func(key string) string { return fmt.Sprintf("%q", "arn:aws:s3:::"+bucket+"/"+key) }
	stmt := func(actions, resources string) string {
		return fmt.Sprintf(`{"Effect":"Allow","Action":[%s],"Resource":[%s]}`, actions, resources)
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join([]string{
		stmt(`"s3:ListBucket","s3:ListBucketVersions"`, fmt.Sprintf("%q", "arn:aws:s3:::"+bucket)),
		stmt(`"s3:GetObject","s3:PutObject"`, obj(stateKey)),
		stmt(`"s3:GetObject","s3:PutObject","s3:DeleteObject"`, obj(statekey.ApplyLockKey(stateKey))),
		stmt(`"s3:GetObject"`, obj(statekey.LedgerObjectKey(stateKey))),
		stmt(`"s3:PutObject","s3:DeleteObject","s3:DeleteObjectVersion"`, obj("app/.prstate-doctor/*")),
		stmt(`"dynamodb:GetItem","dynamodb:PutItem","dynamodb:DeleteItem"`, `"*"`),
	}, ",") + `]}`
}

// TestDoctorIAMMissingPermission: under moto with IAM enforced, the apply
// role without s3:PutObject on the ledger fails that row, naming the
// action and the resource; settings it may not read are warnings.
func TestDoctorIAMMissingPermission(t *testing.T) {
	m := testenv.MotoIAM(t)
	ctx := t.Context()
	const bucket = "prstate-doctor-iam"
	admin := s3.NewFromConfig(m.Admin, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(m.Admin)
	_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("prstate-doctor-iam-locks"),
		BillingMode:          dtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: dtypes.ScalarAttributeTypeS}},
		KeySchema:            []dtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: dtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := m.User(t, "apply", applyPolicy(bucket))
	b := awsstore.NewBucket(m.S3(keys), bucket)
	tbl := awsstore.NewTable(m.DynamoDB(keys), "prstate-doctor-iam-locks")
	tg := target(t, b, tbl, "s3")
	rep := run(t, tg, doctor.Options{Job: doctor.JobApply})

	r := want(t, rep, "s3:PutObject", doctor.Fail, "access denied: s3:PutObject on s3://"+bucket+"/"+statekey.LedgerObjectKey(stateKey))
	if !strings.Contains(r.Fix, "arn:aws:s3:::"+bucket+"/"+statekey.LedgerObjectKey(stateKey)) || !strings.Contains(r.Fix, "apply role") {
		t.Errorf("fix %q", r.Fix)
	}
	// moto's signature check refuses a query with an escaped "/" or ":"
	// when it enforces IAM: its listings of prefixes fail so (AWS lists).
	var others []string
	for _, f := range failures(rep) {
		if !strings.Contains(f, "SignatureDoesNotMatch") && !strings.Contains(f, "ledger") {
			others = append(others, f)
		}
	}
	if len(others) > 0 {
		t.Errorf("want the ledger row alone to fail: %v", others)
	}
	want(t, rep, "conditional create", doctor.OK)
	want(t, rep, "access: the apply lock", doctor.OK, "s3:GetObject, s3:PutObject, s3:DeleteObject")
	want(t, rep, "versioning", doctor.Warn, "not checked", "access denied: s3:GetBucketVersioning")
	want(t, rep, "table", doctor.Warn, "access denied: dynamodb:DescribeTable", "worked")
	if !rep.Failed() {
		t.Fatal("not failed")
	}
	out, err := admin.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil || len(out.Versions)+len(out.DeleteMarkers) != 0 {
		t.Fatalf("doctor left %d versions, %d markers (%v)", len(out.Versions), len(out.DeleteMarkers), err)
	}
}
