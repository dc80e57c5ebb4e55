package doctor_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// TestDoctorBucketInAnotherRegion: S3 redirects a HEAD of a bucket in
// another region (301, x-amz-bucket-region); the row names the region.
func TestDoctorBucketInAnotherRegion(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	b := awsstore.NewBucket(awsstore.NewS3ClientAt(cfg, srv.URL), "acme-state")
	rep := run(t, target(t, b, nil, "s3"), doctor.Options{Job: iam.JobApply})
	r := want(t, rep, "bucket", doctor.Fail, "is in region eu-west-1, requests are signed for us-east-1")
	if r.Fix != `set region = "eu-west-1" in the backend block (or --region)` {
		t.Errorf("fix %q", r.Fix)
	}
	want(t, rep, "clock", doctor.OK)
	if n := len(failures(rep)); n != 1 {
		t.Errorf("failures %v", failures(rep))
	}
}
