package testenv

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestSigningRecorder: through the recorder, moto's STS hands out a
// session key for AssumeRole signed by the base key; the recorder names
// the base key on the AssumeRole call, the session key on the S3 and
// GetCallerIdentity calls made with it, and the assumed role's ARN.
func TestSigningRecorder(t *testing.T) {
	SkipShort(t, "needs moto")
	m := Moto(t)
	rec := NewSigningRecorder(t, m.Endpoint)
	base := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIABASEKEY000000001", "secret", ""), BaseEndpoint: aws.String(rec.URL)}
	const role = "arn:aws:iam::123456789012:role/recorder-test"
	session := base.Copy()
	session.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role, func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "rec" }))
	ctx := t.Context()
	if _, err := s3.NewFromConfig(session, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
	who, err := sts.NewFromConfig(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	calls := rec.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls %+v, want AssumeRole, ListBuckets, GetCallerIdentity", calls)
	}
	if c := calls[0]; c.Service != "sts" || c.Action != "AssumeRole" || c.AKID != "AKIABASEKEY000000001" || c.Status != 200 {
		t.Errorf("first call %+v, want AssumeRole signed by the base key", c)
	}
	sessionKey := calls[1].AKID
	if got, ok := rec.Issued(sessionKey); !ok || got != "arn:aws:sts::123456789012:assumed-role/recorder-test/rec" {
		t.Errorf("S3 signed by %q: issued %v for %q", sessionKey, ok, got)
	}
	if c := calls[1]; c.Service != "s3" || c.Action != "GET" {
		t.Errorf("second call %+v, want S3 GET", c)
	}
	if c := calls[2]; c.Service != "sts" || c.Action != "GetCallerIdentity" || c.AKID != sessionKey {
		t.Errorf("third call %+v, want GetCallerIdentity signed by the session key %s", c, sessionKey)
	}
	if got := rec.Callers(); len(got) != 1 || got[0] != aws.ToString(who.Arn) || !strings.Contains(got[0], "assumed-role/recorder-test/rec") {
		t.Errorf("callers %v, want %s", got, aws.ToString(who.Arn))
	}
}
