package awsstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/prstate/prstate/pipeline/storage"
)

// What prstate doctor asks of a bucket beyond storage.Bucket: its
// settings, the server's clock, and harmless probes of permissions.

// Region is the region the client signs for.
func (b *bucket) Region() string { return b.client.Options().Region }

// Endpoint is the custom S3 endpoint the client talks to ("" for AWS's).
func (b *bucket) Endpoint() string {
	if e := b.client.Options().BaseEndpoint; e != nil {
		return *e
	}
	return ""
}

// CredentialSource retrieves the credentials and says where they came
// from (the SDK's provider name), never what they are.
func (b *bucket) CredentialSource(ctx context.Context) (string, error) {
	p := b.client.Options().Credentials
	if p == nil {
		return "", errors.New("no AWS credentials provider")
	}
	c, err := p.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("failed to retrieve AWS credentials: %w", err)
	}
	return c.Source, nil
}

// HeadBucket tells the bucket's region and the server's clock. The clock
// is read from the answer's Date header, also when the answer is an error.
func (b *bucket) HeadBucket(ctx context.Context) (storage.BucketHead, error) {
	out, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.name)})
	if err != nil {
		date, region := errorHeaders(err)
		return storage.BucketHead{Region: region, ServerTime: date}, b.inspectErr("head bucket s3://"+b.name, "s3:ListBucket", "", nil, err)
	}
	h := storage.BucketHead{Region: aws.ToString(out.BucketRegion)}
	h.ServerTime, _ = awsmiddleware.GetServerTime(out.ResultMetadata)
	return h, nil
}

// errorHeaders are the Date (zero without one) and x-amz-bucket-region
// headers of an error answer: S3 says where a bucket is when it
// redirects (301) or refuses (403) a HEAD.
func errorHeaders(err error) (time.Time, string) {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return time.Time{}, ""
	}
	h := re.Response.Header
	t, perr := time.Parse(time.RFC1123, h.Get("Date"))
	if perr != nil {
		t = time.Time{}
	}
	return t, h.Get("X-Amz-Bucket-Region")
}

// Versioning is the bucket's versioning status.
func (b *bucket) Versioning(ctx context.Context) (storage.Versioning, error) {
	out, err := b.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.name)})
	if err != nil {
		return "", b.inspectErr("get the versioning of s3://"+b.name, "s3:GetBucketVersioning", "", nil, err)
	}
	return storage.Versioning(out.Status), nil
}

// LifecycleRules lists the bucket's lifecycle rules; none when it has no
// lifecycle configuration.
func (b *bucket) LifecycleRules(ctx context.Context) ([]storage.LifecycleRule, error) {
	out, err := b.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b.name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchLifecycleConfiguration" {
			return nil, nil
		}
		return nil, b.inspectErr("get the lifecycle configuration of s3://"+b.name, "s3:GetLifecycleConfiguration", "", nil, err)
	}
	rules := make([]storage.LifecycleRule, 0, len(out.Rules))
	for _, r := range out.Rules {
		// A rule written with the legacy API (no Filter) has its prefix
		// in the rule itself, and S3 still returns it there.
		lr := storage.LifecycleRule{ID: aws.ToString(r.ID), Prefix: aws.ToString(r.Prefix), Enabled: r.Status == "Enabled"} //nolint:staticcheck // old buckets' rules keep their scope in the deprecated Prefix

		if f := r.Filter; f != nil {
			switch {
			case f.Prefix != nil:
				lr.Prefix = *f.Prefix
			case f.And != nil:
				lr.Prefix = aws.ToString(f.And.Prefix)
				lr.Tagged = len(f.And.Tags) > 0
			}
			if f.Tag != nil {
				lr.Tagged = true
			}
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			lr.NoncurrentDays = aws.ToInt32(e.NoncurrentDays)
		}
		rules = append(rules, lr)
	}
	return rules, nil
}

// HeadObject reads key's metadata (s3:GetObject). A missing key is
// storage.ErrNotFound.
func (b *bucket) HeadObject(ctx context.Context, key string) error {
	_, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return b.inspectErr("head object s3://"+b.name+"/"+key, "s3:GetObject", key, s3Sentinel(err), err)
	}
	return nil
}

// ListOne lists at most one key (s3:ListBucket) or one version
// (s3:ListBucketVersions) under prefix.
func (b *bucket) ListOne(ctx context.Context, prefix string, versions bool) error {
	var err error
	if versions {
		_, err = b.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b.name), Prefix: aws.String(prefix), MaxKeys: aws.Int32(1)})
	} else {
		_, err = b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.name), Prefix: aws.String(prefix), MaxKeys: aws.Int32(1)})
	}
	if err != nil {
		action := "s3:ListBucket"
		if versions {
			action = "s3:ListBucketVersions"
		}
		return b.inspectErr("list s3://"+b.name+"/"+prefix, action, "", nil, err)
	}
	return nil
}

// inspectErr classifies err of action on key ("" for the bucket) as
// every storage call does.
func (b *bucket) inspectErr(what, action, key string, sentinel, err error) error {
	return b.fail(what, action, key, sentinel, err)
}
