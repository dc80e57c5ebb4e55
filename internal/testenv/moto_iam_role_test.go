package testenv

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestMotoIAMDeniesAssumeRole records why no test shows an assumed-role
// session judged by moto's IAM enforcement: moto 5.2 denies sts:AssumeRole
// (403 AccessDenied, in an error shape the SDK reads as UnknownError) even
// to a user whose policy allows every action on every resource, so no
// session key can be had from a server that enforces IAM. When this test
// fails, moto has learnt it: prove then that prstate without the backend's
// assume_role gets AccessDenied where the role is allowed.
func TestMotoIAMDeniesAssumeRole(t *testing.T) {
	if testing.Short() {
		t.Skip("needs moto")
	}
	m := MotoIAM(t)
	all := m.User(t, "everything", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	rec := NewSigningRecorder(t, m.Endpoint)
	cfg := m.Config(all)
	cfg.BaseEndpoint = aws.String(rec.URL)
	_, err := sts.NewFromConfig(cfg).AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/any"), RoleSessionName: aws.String("probe")})
	calls := rec.Calls()
	if err == nil || len(calls) != 1 || calls[0].Status != 403 || calls[0].AKID != all.AccessKeyID {
		t.Fatalf("moto answered AssumeRole by a user allowed everything with %v (calls %+v): it may evaluate assumed-role sessions now", err, calls)
	}
}
