package awsstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
)

// ListObjectVersionsWithETags is ListObjectVersions plus each version's
// ETag ("" for delete markers), in a slice parallel to the versions: the
// same requests, nothing more.
func (b *bucket) ListObjectVersionsWithETags(ctx context.Context, prefix string) ([]storage.ObjectVersion, []string, error) {
	var out []storage.ObjectVersion
	var etags []string
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(b.name), Prefix: aws.String(prefix)}
	for {
		page, err := b.client.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, nil, wrap("list object versions s3://"+b.name+"/"+prefix, nil, err)
		}
		byID := make(map[[2]string]string, len(page.Versions))
		for _, v := range page.Versions {
			byID[[2]string{aws.ToString(v.Key), aws.ToString(v.VersionId)}] = aws.ToString(v.ETag)
		}
		for _, v := range mergeVersions(page) {
			out = append(out, v)
			etags = append(etags, byID[[2]string{v.Key, v.VersionID}])
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, etags, nil
		}
		in.KeyMarker = page.NextKeyMarker
		in.VersionIdMarker = page.NextVersionIdMarker
	}
}
