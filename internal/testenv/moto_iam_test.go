package testenv

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// TestIamMotoEnforces: under MotoIAM a user reaches what its policy allows
// (object ARNs are judged) and nothing else; unknown keys are refused.
func TestIamMotoEnforces(t *testing.T) {
	m := MotoIAM(t)
	admin := s3.NewFromConfig(m.Admin, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := t.Context()
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("iam-enforced")}); err != nil {
		t.Fatal(err)
	}
	k := m.User(t, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::iam-enforced/allowed/*"}]}`)
	user := m.S3(k)
	put := func(c *s3.Client, key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("iam-enforced"), Key: aws.String(key)})
		return err
	}
	if err := put(user, "allowed/x"); err != nil {
		t.Fatalf("allowed put: %v", err)
	}
	if err := put(user, "denied/x"); !isCode(err, "AccessDenied") {
		t.Fatalf("denied put: %v; want AccessDenied", err)
	}
	if err := put(m.S3(Keys{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}), "allowed/y"); err == nil {
		t.Fatal("unknown keys were let in")
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
