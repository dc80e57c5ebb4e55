package doctor

import (
	"context"

	"github.com/prstate/prstate/pipeline/storage"
)

// BucketInspector is what doctor asks of a bucket beyond storage.Bucket
// (awsstore and memstore implement it). A store without it has those
// checks reported as not run.
type BucketInspector interface {
	// Region is the region requests are signed for.
	Region() string
	// Endpoint is the custom S3 endpoint, "" for AWS's own.
	Endpoint() string
	// CredentialSource says where the credentials came from (never what
	// they are).
	CredentialSource(ctx context.Context) (string, error)
	HeadBucket(ctx context.Context) (storage.BucketHead, error)
	Versioning(ctx context.Context) (storage.Versioning, error)
	LifecycleRules(ctx context.Context) ([]storage.LifecycleRule, error)
	// HeadObject reads a key's metadata: storage.ErrNotFound when absent.
	HeadObject(ctx context.Context, key string) error
	// ListOne lists one key, or one version, under prefix.
	ListOne(ctx context.Context, prefix string, versions bool) error
}

// TableInspector is what doctor asks of a lock table beyond storage.Table.
type TableInspector interface {
	DescribeKey(ctx context.Context) (storage.TableSchema, error)
	// ProbeWrite puts (or deletes) lockID under a condition that never
	// holds: storage.ErrPrecondition means the write was allowed.
	ProbeWrite(ctx context.Context, lockID string, del bool) error
	// ProbeCheck sends a transaction of one condition check on lockID
	// that never holds: storage.ErrCheckFailed means it was allowed.
	ProbeCheck(ctx context.Context, lockID string) error
	// ProbeScan scans one item.
	ProbeScan(ctx context.Context) error
}
