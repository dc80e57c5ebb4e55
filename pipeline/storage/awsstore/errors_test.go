package awsstore_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// answer is one canned error of a fake S3 or DynamoDB endpoint.
type answer struct {
	status     int
	code, msg  string
	dynamo     bool
	permanent  bool
	want       string // the human line, or a part of it
	notPresent string // raw SDK text that must not show
}

func (a answer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("X-Amz-Request-Id", "REQ123")
	if a.dynamo {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#`+a.code+`","message":"`+a.msg+`"}`)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+a.code+`</Code><Message>`+a.msg+`</Message><RequestId>REQ123</RequestId><HostId>HOST456</HostId></Error>`)
}

// TestErrorsAreClassified: every SDK error becomes one human line;
// permanent ones are marked (exit 2), transient ones keep no request IDs;
// the sentinels and the SDK's error stay reachable.
func TestErrorsAreClassified(t *testing.T) {
	t.Parallel()
	cases := []answer{
		{status: 404, code: "NoSuchBucket", msg: "The specified bucket does not exist", permanent: true, want: `S3 bucket "acme-state" does not exist (region eu-west-1)`},
		{status: 403, code: "AccessDenied", msg: "Access Denied", permanent: true, want: "access denied: s3:PutObject on s3://acme-state/app/terraform.tfstate.prstate-apply.lock"},
		{status: 403, code: "SignatureDoesNotMatch", msg: "The request signature we calculated does not match", permanent: true, want: "S3 rejected the request signature (SignatureDoesNotMatch)"},
		{status: 403, code: "InvalidAccessKeyId", msg: "The AWS Access Key Id you provided does not exist", permanent: true, want: "S3 rejected the AWS access key ID (InvalidAccessKeyId)"},
		{status: 400, code: "ExpiredToken", msg: "The provided token has expired.", permanent: true, want: "the AWS credentials have expired (ExpiredToken)"},
		{status: 503, code: "SlowDown", msg: "Please reduce your request rate.", want: "failed to put object s3://acme-state/app/terraform.tfstate.prstate-apply.lock: 503 SlowDown: Please reduce your request rate.", notPresent: "REQ123"},
		{status: 500, code: "InternalError", msg: "We encountered an internal error.", want: "500 InternalError", notPresent: "HOST456"},
		{status: 400, code: "ResourceNotFoundException", msg: "Requested resource not found", dynamo: true, permanent: true, want: `DynamoDB table "locks" does not exist (region eu-west-1)`},
		{status: 400, code: "AccessDeniedException", msg: "not authorized", dynamo: true, permanent: true, want: "access denied: dynamodb:PutItem on table locks"},
		{status: 400, code: "UnrecognizedClientException", msg: "The security token included in the request is invalid.", dynamo: true, permanent: true, want: "DynamoDB rejected the AWS access key ID (UnrecognizedClientException)"},
		{status: 400, code: "ValidationException", msg: "One or more parameter values were invalid: Missing the key LockID in the item", dynamo: true, permanent: true, want: `DynamoDB table "locks" has no string partition key LockID`},
		{status: 400, code: "ThrottlingException", msg: "Rate of requests exceeds the allowed throughput.", dynamo: true, want: "ThrottlingException: Rate of requests exceeds", notPresent: "RequestID"},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(c)
			defer srv.Close()
			cfg := aws.Config{
				Region:       "eu-west-1",
				Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
				BaseEndpoint: aws.String(srv.URL),
				Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
			}
			var err error
			if c.dynamo {
				tb := awsstore.NewTable(awsstore.NewDynamoDBClient(cfg), "locks")
				err = tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: "acme-state/app/terraform.tfstate.prstate-apply", "Info": "{}"}, storage.Condition{Absent: true})
			} else {
				b := awsstore.NewBucket(awsstore.NewS3Client(cfg), "acme-state")
				_, err = b.PutObject(t.Context(), "app/terraform.tfstate.prstate-apply.lock", []byte("{}"), storage.PutOptions{IfNoneMatch: true})
			}
			var se *storage.Error
			if !errors.As(err, &se) {
				t.Fatalf("%v (%T): not a storage.Error", err, err)
			}
			if storage.IsPermanent(err) != c.permanent || se.ExitCode() != map[bool]int{true: 2, false: 1}[c.permanent] {
				t.Errorf("permanent %v, exit %d; want permanent %v", storage.IsPermanent(err), se.ExitCode(), c.permanent)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q, want %q", err.Error(), c.want)
			}
			if c.notPresent != "" && strings.Contains(err.Error(), c.notPresent) {
				t.Errorf("message %q carries %q", err.Error(), c.notPresent)
			}
			if raw := storage.RawDetail(err); !strings.Contains(raw, c.code) {
				t.Errorf("raw detail %q lacks %s", raw, c.code)
			}
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPrecondition) {
				t.Errorf("%v matches a sentinel", err)
			}
		})
	}
}
