package applylock

import (
	"context"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/record"
)

// LockStore is one lock record with compare-and-swap, on S3 or DynamoDB:
// a record.Record (NewS3LockStore, NewDynamoDBLockStore), or a test's
// wrapper of one. Version is opaque: an ETag or the stored Info. Errors
// wrap storage.ErrNotFound (no record) and storage.ErrPrecondition (lost
// race).
//
// A released lock may leave a "released" record behind (S3, where a
// DELETE is not reliably conditional): Read reports it as ErrNotFound and
// Create takes it, exactly as if nothing were there.
type LockStore interface {
	// Create writes body when no record exists (or only a released one).
	Create(ctx context.Context, body []byte) (version string, err error)
	// Read returns the record, its version and the store's clock.
	Read(ctx context.Context) (Observation, error)
	// Replace writes body when the record is still at expected.
	Replace(ctx context.Context, body []byte, expected string) (version string, err error)
	// Delete releases the record when it is still at expected.
	Delete(ctx context.Context, expected string) error
	// Where names the record for people (s3://bucket/key or dynamodb://table/LockID).
	Where() string
	// Guard is the condition that the record is still at version, for a
	// write to another item of the same DynamoDB table to send in one
	// transaction (storage.Table.PutItemChecked); nil where no write can
	// be made conditional on the record (S3).
	Guard(version string) *storage.Check
}

// Observation is one read of a lock record.
type Observation = record.Observation

// lockInfoAttr holds the record in the DynamoDB item, as Terraform's Info.
const lockInfoAttr = "Info"

// NewS3LockStore keeps a lock record in the object key of b, versioned by
// its ETag: If-None-Match creates, If-Match replaces, and a release
// leaves a released record (ReleasedRecord).
func NewS3LockStore(b record.Objects, key string) LockStore {
	return record.S3(b, key, released{})
}

// NewDynamoDBLockStore keeps a lock record in the Info attribute of item
// lockID of t, as Terraform does; the Info value itself is the version
// (every write carries a new RVN). DynamoDB honours the condition of a
// delete, so a release deletes the item, as Terraform and OpenTofu do.
func NewDynamoDBLockStore(t record.Items, lockID string) LockStore {
	return record.DynamoDB(t, lockID, lockInfoAttr)
}

// released is the tombstone of the records beside a lock on S3:
// ReleasedRecord.
type released struct{}

func (released) New() []byte         { return ReleasedRecord() }
func (released) Is(body []byte) bool { return IsReleasedRecord(body) }

// httpDateResolution: Last-Modified and Date carry whole seconds.
const httpDateResolution = time.Second

// observedAge is how long ago the record read in o was written, on the
// store's clock, as a lower bound. Where the store keeps no write time,
// the holder's own write time stands in, less skew (how far its clock may
// be off).
func observedAge(o Observation, holderWrote time.Time, skew time.Duration) recordAge {
	switch {
	case o.ServerNow.IsZero():
		return recordAge{}
	case !o.Written.IsZero():
		return recordAge{d: o.ServerNow.Sub(o.Written) - httpDateResolution, ok: true}
	case !holderWrote.IsZero():
		return recordAge{d: o.ServerNow.Sub(holderWrote) - skew - httpDateResolution, ok: true}
	}
	return recordAge{}
}
