package awsstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/prstate/prstate/pipeline/storage"
)

// GetObjectVersion reads one version of key by its ID; ErrNotFound when the
// version is gone. Cleanup uses it to find the seed a PR state started from.
func (b *bucket) GetObjectVersion(ctx context.Context, key, versionID string) (storage.Object, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:    aws.String(b.name),
		Key:       aws.String(key),
		VersionId: aws.String(versionID),
	})
	if err != nil {
		what := fmt.Sprintf("get object s3://%s/%s version %s", b.name, key, versionID)
		sentinel := s3Sentinel(err)
		if sentinel == nil && isNoSuchVersion(err) {
			sentinel = storage.ErrNotFound
		}
		return storage.Object{}, b.fail(what, "s3:GetObjectVersion", key, sentinel, err)
	}
	return b.objectFrom(key, out)
}

// isNoSuchVersion tells whether S3 refused a version ID it does not know
// (400 NoSuchVersion or InvalidArgument, not 404) or that is a delete
// marker (405 MethodNotAllowed).
func isNoSuchVersion(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchVersion", "InvalidArgument", "MethodNotAllowed":
			return true
		}
	}
	return false
}
