package doctor_test

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// TestDoctorS3Flavors: on moto and MinIO every check passes or warns for
// each job of an S3-locked stack, production objects are untouched, and
// the scratch object is gone. MinIO ignores If-Match on DELETE: a warning
// that says prstate does not rely on it.
func TestDoctorS3Flavors(t *testing.T) {
	for _, f := range testenv.S3Flavors() {
		t.Run(f.Name, func(t *testing.T) {
			srv := f.Start(t)
			name := srv.NewBucket(t, true)
			b := srv.Bucket(t, name)
			for _, k := range []string{stateKey, statekey.ApplyLockKey(stateKey), statekey.LedgerObjectKey(stateKey)} {
				if _, err := b.PutObject(t.Context(), k, []byte(`{"serial":1}`), storage.PutOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			before := versions(t, b)
			for _, job := range iam.Jobs {
				rep := run(t, target(t, b, nil, "s3"), doctor.Options{Job: job})
				if fs := failures(rep); len(fs) > 0 {
					t.Errorf("%s: failures: %v", job, fs)
				}
				want(t, rep, "bucket", doctor.OK, "exists")
				want(t, rep, "versioning", doctor.OK, "enabled")
				want(t, rep, "clock", doctor.OK)
				want(t, rep, "conditional create", doctor.OK)
				want(t, rep, "conditional replace", doctor.OK)
				if f.Name == "minio" {
					want(t, rep, "conditional delete", doctor.Warn, "ignores If-Match on DELETE", "prstate releases by conditional PUT; safe")
				} else {
					want(t, rep, "conditional delete", doctor.OK)
				}
			}
			if after := versions(t, b); !slices.Equal(before, after) {
				t.Fatalf("doctor changed the bucket:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestDoctorMoto: a versioned bucket with a lifecycle rule and a lock
// table passes; the apply job's probes name the table's items.
func TestDoctorMoto(t *testing.T) {
	m := testenv.Moto(t)
	name := m.NewBucket(t, true)
	_, err := m.S3().PutBucketLifecycleConfiguration(t.Context(), &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(name),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("noncurrent"), Status: s3types.ExpirationStatusEnabled,
			Filter:                      &s3types.LifecycleRuleFilter{Prefix: aws.String("app/")},
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(30)},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bucket(t, name)
	tbl := m.Table(t, m.NewTable(t))
	rep := run(t, target(t, b, tbl, "dynamodb"), doctor.Options{Job: iam.JobApply})
	if fs := failures(rep); len(fs) > 0 {
		t.Fatalf("failures: %v", fs)
	}
	want(t, rep, "lifecycle", doctor.OK, `rule "noncurrent" expires noncurrent versions after 30 days`)
	want(t, rep, "table", doctor.OK, "partition key LockID (string)")
	want(t, rep, "access: the apply lock item", doctor.OK, "dynamodb:GetItem, dynamodb:PutItem, dynamodb:DeleteItem, dynamodb:ConditionCheckItem")
	items, err := tbl.ScanItems(t.Context(), "")
	if err != nil || len(items) != 0 {
		t.Fatalf("doctor left items %v (%v)", items, err)
	}
}

// TestDoctorUnversionedBucket warns: cleanup and recovery are weaker.
func TestDoctorUnversionedBucket(t *testing.T) {
	m := testenv.Moto(t)
	b := m.Bucket(t, m.NewBucket(t, false))
	rep := run(t, target(t, b, nil, "s3"), doctor.Options{Job: iam.JobApply})
	r := want(t, rep, "versioning", doctor.Warn, "off", "cleanup and recovery are weaker")
	if !strings.Contains(r.Fix, "put-bucket-versioning") {
		t.Errorf("fix %q", r.Fix)
	}
	want(t, rep, "lifecycle", doctor.OK, "not needed")
	if rep.Failed() {
		t.Fatalf("failures: %v", failures(rep))
	}
	if vs := versions(t, b); len(vs) != 0 {
		t.Fatalf("doctor left %v", vs)
	}
}

// TestDoctorMissingBucket fails on the bucket row and probes nothing.
func TestDoctorMissingBucket(t *testing.T) {
	m := testenv.Moto(t)
	rep := run(t, target(t, m.Bucket(t, "prstate-no-such-bucket"), nil, "s3"), doctor.Options{Job: iam.JobPlan})
	want(t, rep, "bucket", doctor.Fail, "does not exist")
	if n := len(failures(rep)); n != 1 {
		t.Fatalf("want the bucket row alone to fail: %v", failures(rep))
	}
}

// TestDoctorWrongTableKey: a table keyed by a number fails.
func TestDoctorWrongTableKey(t *testing.T) {
	m := testenv.Moto(t)
	name := "prstate-doctor-wrong-key"
	_, err := m.DynamoDB().CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          dtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: dtypes.ScalarAttributeTypeN}},
		KeySchema:            []dtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: dtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, target(t, m.Bucket(t, m.NewBucket(t, true)), m.Table(t, name), "dynamodb"), doctor.Options{Job: iam.JobApply})
	want(t, rep, "table", doctor.Fail, "partition key id (type N)", "string partition key LockID")
	if !rep.Failed() {
		t.Fatal("not failed")
	}
}

// TestDoctorServerIgnoresIfNoneMatch: behind a proxy that drops
// If-None-Match, a second create succeeds: the conditional create row
// fails for a stack that locks on S3 (and only warns for one that does not).
func TestDoctorServerIgnoresIfNoneMatch(t *testing.T) {
	m := testenv.Moto(t)
	name := m.NewBucket(t, true)
	target0, err := url.Parse(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target0)
		r.Out.Host = r.In.Host // the client signed the proxy's host
		r.Out.Header.Del("If-None-Match")
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	b := awsstore.NewBucket(awsstore.NewS3ClientAt(m.Config(), srv.URL), name)

	rep := run(t, target(t, b, nil, "s3"), doctor.Options{Job: iam.JobApply})
	r := want(t, rep, "conditional create", doctor.Fail, "ignores If-None-Match")
	if !strings.Contains(r.Fix, "dynamodb-table") {
		t.Errorf("fix %q", r.Fix)
	}
	if got := failures(rep); len(got) != 1 {
		t.Errorf("want one failure, got %v", got)
	}
	tbl := m.Table(t, m.NewTable(t))
	rep = run(t, target(t, b, tbl, "dynamodb"), doctor.Options{Job: iam.JobApply})
	want(t, rep, "conditional create", doctor.Warn, "ignores If-None-Match", "not used")
	if vs := versions(t, b); len(vs) != 0 {
		t.Fatalf("doctor left %v", vs)
	}
}
