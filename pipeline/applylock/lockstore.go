package applylock

import (
	"context"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// LockStore is one lock record with compare-and-swap, on S3 or DynamoDB.
// Version is opaque: an ETag or the stored Info. Errors wrap
// storage.ErrNotFound (no record) and storage.ErrPrecondition (lost race).
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
type Observation struct {
	Body    []byte
	Version string
	// Written is when the store wrote the record, on its own clock (S3's
	// LastModified, to the second); zero where it keeps none (DynamoDB).
	Written time.Time
	// ServerNow is the store's clock when it answered (the response's
	// Date header, to the second); zero when unknown.
	ServerNow time.Time
}

// httpDateResolution: Last-Modified and Date carry whole seconds.
const httpDateResolution = time.Second

// age is how long ago the record was written on the store's clock, as a
// lower bound. Where the store keeps no write time, the holder's own
// write time stands in, less skew (how far its clock may be off).
func (o Observation) age(holderWrote time.Time, skew time.Duration) recordAge {
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
