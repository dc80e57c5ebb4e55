package memstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// What prstate doctor asks of a store (doctor.BucketInspector and
// doctor.TableInspector), answered as S3 and DynamoDB would for an
// always versioned bucket without lifecycle rules and a Terraform lock
// table.

// Region is "local": the bucket is in this process.
func (b *Bucket) Region() string { return "local" }

// Endpoint is the store's pseudo endpoint.
func (b *Bucket) Endpoint() string { return "memory" }

// CredentialSource is "memory": no credentials are needed.
func (b *Bucket) CredentialSource(context.Context) (string, error) { return "memory", nil }

// HeadBucket answers with the local clock.
func (b *Bucket) HeadBucket(ctx context.Context) (storage.BucketHead, error) {
	b.calls.add("HeadBucket")
	if err := ctx.Err(); err != nil {
		return storage.BucketHead{}, fmt.Errorf("failed to head bucket %s: %w", b.name, err)
	}
	return storage.BucketHead{ServerTime: time.Now().UTC().Truncate(time.Second)}, nil
}

// Versioning is always enabled.
func (b *Bucket) Versioning(context.Context) (storage.Versioning, error) {
	return storage.VersioningEnabled, nil
}

// LifecycleRules returns none: the memory bucket has no lifecycle rules.
func (b *Bucket) LifecycleRules(context.Context) ([]storage.LifecycleRule, error) { return nil, nil }

// HeadObject tells whether key has a current version.
func (b *Bucket) HeadObject(ctx context.Context, key string) error {
	b.calls.add("HeadObject")
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.latest(key) == nil {
		return fmt.Errorf("failed to head object %s: %w", key, storage.ErrNotFound)
	}
	return nil
}

// ListOne always succeeds.
func (b *Bucket) ListOne(ctx context.Context, prefix string, versions bool) error {
	b.calls.add("ListOne")
	return ctx.Err()
}

// DescribeKey is Terraform's lock table key.
func (t *Table) DescribeKey(context.Context) (storage.TableSchema, error) {
	return storage.TableSchema{Status: "ACTIVE", HashKey: storage.KeyAttr, HashKeyType: "S"}, nil
}

// ProbeWrite is refused by its condition, as DynamoDB refuses it.
func (t *Table) ProbeWrite(_ context.Context, lockID string, _ bool) error {
	t.calls.add("ProbeWrite")
	if strings.TrimSpace(lockID) == "" {
		return fmt.Errorf("failed to probe item of %s: empty LockID", t.name)
	}
	return fmt.Errorf("failed to probe item %s of %s: %w", lockID, t.name, storage.ErrPrecondition)
}

// ProbeCheck is refused by its condition, as DynamoDB refuses it.
func (t *Table) ProbeCheck(_ context.Context, lockID string) error {
	t.calls.add("ProbeCheck")
	if strings.TrimSpace(lockID) == "" {
		return fmt.Errorf("failed to probe item of %s: empty LockID", t.name)
	}
	return fmt.Errorf("failed to probe item %s of %s: %w", lockID, t.name, storage.ErrCheckFailed)
}

// ProbeScan always succeeds.
func (t *Table) ProbeScan(ctx context.Context) error { return ctx.Err() }
