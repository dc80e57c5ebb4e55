package awsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/pipeline/storage"
)

// bucket is storage.Bucket on one S3 bucket.
type bucket struct {
	client *s3.Client
	name   string
}

// NewBucket returns the S3 bucket name as a storage.Bucket.
func NewBucket(client *s3.Client, name string) storage.Bucket {
	return &bucket{client: client, name: name}
}

func (b *bucket) Name() string { return b.name }

// fail classifies err of action (s3:GetObject) on key ("" for the bucket).
func (b *bucket) fail(what, action, key string, sentinel, err error) error {
	resource := "s3://" + b.name
	if key != "" {
		resource += "/" + key
	}
	return classify(what, target{service: "S3", action: action, resource: resource, bucket: b.name, region: b.client.Options().Region}, sentinel, err)
}

// lowerKeys returns m with lower-cased keys, nil when empty.
func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func (b *bucket) GetObject(ctx context.Context, key string) (storage.Object, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.name),
		Key:    aws.String(key),
	})
	if err != nil {
		return storage.Object{}, b.fail("get object s3://"+b.name+"/"+key, "s3:GetObject", key, s3Sentinel(err), err)
	}
	o, err := b.objectFrom(key, out)
	o.ServerTime, _ = awsmiddleware.GetServerTime(out.ResultMetadata)
	return o, err
}

// objectFrom reads a GetObject answer (current or older version) whole.
func (b *bucket) objectFrom(key string, out *s3.GetObjectOutput) (storage.Object, error) {
	defer out.Body.Close()
	body, err := readBody(out.Body, aws.ToInt64(out.ContentLength))
	if err != nil {
		return storage.Object{}, fmt.Errorf("failed to read object s3://%s/%s version %s: %w", b.name, key, aws.ToString(out.VersionId), err)
	}
	return storage.Object{
		Key:          key,
		Body:         body,
		ETag:         aws.ToString(out.ETag),
		VersionID:    aws.ToString(out.VersionId),
		Metadata:     lowerKeys(out.Metadata),
		Size:         int64(len(body)),
		LastModified: aws.ToTime(out.LastModified),
		Encryption:   storage.Encryption{SSE: string(out.ServerSideEncryption), KMSKeyID: aws.ToString(out.SSEKMSKeyId)},
	}, nil
}

// readBody reads a body whose length S3 announced into one buffer of that
// size (io.ReadAll would grow to twice the body on the way).
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n <= 0 || n > 1<<32 {
		return io.ReadAll(r)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	rest, err := io.ReadAll(r) // nothing, unless the length was wrong
	return append(buf, rest...), err
}

// PutObject maps IfNoneMatch to "If-None-Match: *" and IfMatch to
// "If-Match". S3 answers an If-Match put on an absent key with 404; that
// is reported as ErrPrecondition, as the storage.PutOptions contract says.
func (b *bucket) PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error) {
	what := "put object s3://" + b.name + "/" + key
	if opts.IfNoneMatch && opts.IfMatch != "" {
		return "", fmt.Errorf("failed to %s: IfNoneMatch and IfMatch are exclusive", what)
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(b.name),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      lowerKeys(opts.Metadata),
	}
	if opts.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(opts.IfMatch)
	}
	if opts.Encryption.SSE != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryption(opts.Encryption.SSE)
	}
	if opts.Encryption.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(opts.Encryption.KMSKeyID)
	}
	out, err := b.client.PutObject(ctx, in)
	if err != nil {
		sentinel := s3Sentinel(err)
		if opts.IfMatch != "" && errors.Is(sentinel, storage.ErrNotFound) {
			sentinel = storage.ErrPrecondition
		}
		return "", b.fail(what, "s3:PutObject", key, sentinel, err)
	}
	return aws.ToString(out.ETag), nil
}

func (b *bucket) DeleteObject(ctx context.Context, key, ifMatch string) error {
	in := &s3.DeleteObjectInput{
		Bucket: aws.String(b.name),
		Key:    aws.String(key),
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	if _, err := b.client.DeleteObject(ctx, in); err != nil {
		sentinel := s3Sentinel(err)
		if ifMatch == "" && errors.Is(sentinel, storage.ErrNotFound) {
			return nil
		}
		return b.fail("delete object s3://"+b.name+"/"+key, "s3:DeleteObject", key, sentinel, err)
	}
	return nil
}

func (b *bucket) ListObjects(ctx context.Context, prefix string) ([]storage.Object, error) {
	var objs []storage.Object
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.name),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, b.fail("list objects s3://"+b.name+"/"+prefix, "s3:ListBucket", "", nil, err)
		}
		for _, o := range page.Contents {
			objs = append(objs, storage.Object{
				Key:          aws.ToString(o.Key),
				ETag:         aws.ToString(o.ETag),
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
			})
		}
	}
	return objs, nil
}

// ListObjectVersions pages through every version and delete marker. Within
// a page S3 lists versions and delete markers apart; they are merged back
// into key order, newest first within a key.
func (b *bucket) ListObjectVersions(ctx context.Context, prefix string) ([]storage.ObjectVersion, error) {
	var out []storage.ObjectVersion
	in := &s3.ListObjectVersionsInput{
		Bucket: aws.String(b.name),
		Prefix: aws.String(prefix),
	}
	for {
		page, err := b.client.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, b.fail("list object versions s3://"+b.name+"/"+prefix, "s3:ListBucketVersions", "", nil, err)
		}
		out = append(out, mergeVersions(page)...)
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker = page.NextKeyMarker
		in.VersionIdMarker = page.NextVersionIdMarker
	}
}
