package awsstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/pipeline/storage"
)

// deleteObjectsMax is the most keys one DeleteObjects request takes.
const deleteObjectsMax = 1000

// mergeVersions turns one ListObjectVersions page into ObjectVersions in
// key order, the latest first and then newest first within a key.
func mergeVersions(page *s3.ListObjectVersionsOutput) []storage.ObjectVersion {
	vs := make([]storage.ObjectVersion, 0, len(page.Versions)+len(page.DeleteMarkers))
	for _, v := range page.Versions {
		vs = append(vs, storage.ObjectVersion{
			Key:          aws.ToString(v.Key),
			VersionID:    aws.ToString(v.VersionId),
			IsLatest:     aws.ToBool(v.IsLatest),
			ETag:         aws.ToString(v.ETag),
			Size:         aws.ToInt64(v.Size),
			LastModified: aws.ToTime(v.LastModified),
		})
	}
	for _, d := range page.DeleteMarkers {
		vs = append(vs, storage.ObjectVersion{
			Key:          aws.ToString(d.Key),
			VersionID:    aws.ToString(d.VersionId),
			DeleteMarker: true,
			IsLatest:     aws.ToBool(d.IsLatest),
			LastModified: aws.ToTime(d.LastModified),
		})
	}
	slices.SortStableFunc(vs, func(a, b storage.ObjectVersion) int {
		if c := cmp.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if a.IsLatest != b.IsLatest {
			if a.IsLatest {
				return -1
			}
			return 1
		}
		return b.LastModified.Compare(a.LastModified)
	})
	return vs
}

// DeleteObjectVersions deletes the versions for good with DeleteObjects in
// quiet mode, up to 1000 keys a request and up to maxParallel requests at
// a time. Per-key failures are joined; versions already gone are not
// failures. An empty VersionID is refused up front, since it would add a
// delete marker rather than remove anything.
func (b *bucket) DeleteObjectVersions(ctx context.Context, versions []storage.ObjectVersion) error {
	ids := make([]types.ObjectIdentifier, 0, len(versions))
	seen := make(map[[2]string]bool, len(versions))
	for _, v := range versions {
		if v.VersionID == "" {
			return fmt.Errorf("failed to delete object versions in s3://%s: %s: empty version ID", b.name, v.Key)
		}
		k := [2]string{v.Key, v.VersionID}
		if seen[k] {
			continue
		}
		seen[k] = true
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(v.Key), VersionId: aws.String(v.VersionID)})
	}
	return forEachBatch(ctx, len(ids), deleteObjectsMax, maxParallel, func(ctx context.Context, lo, hi int) error {
		return b.deleteBatch(ctx, ids[lo:hi])
	})
}

// deleteBatch sends one DeleteObjects request.
func (b *bucket) deleteBatch(ctx context.Context, ids []types.ObjectIdentifier) error {
	out, err := b.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(b.name),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return b.fail(fmt.Sprintf("delete %d object versions in s3://%s", len(ids), b.name), "s3:DeleteObjectVersion", "", nil, err)
	}
	var errs []error
	for _, e := range out.Errors {
		switch aws.ToString(e.Code) {
		case "NoSuchVersion", "NoSuchKey":
			continue
		}
		errs = append(errs, fmt.Errorf("failed to delete s3://%s/%s version %s: %s: %s",
			b.name, aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message)))
	}
	return errors.Join(errs...)
}
