package applylock

import "context"

// LockStore is one lock record with compare-and-swap, on S3 or DynamoDB.
// Version is opaque: an ETag or the stored Info. Errors wrap
// storage.ErrNotFound (no record) and storage.ErrPrecondition (lost race).
type LockStore interface {
	// Create writes body when no record exists.
	Create(ctx context.Context, body []byte) (version string, err error)
	// Read returns the record and its version.
	Read(ctx context.Context) (body []byte, version string, err error)
	// Replace writes body when the record is still at expected.
	Replace(ctx context.Context, body []byte, expected string) (version string, err error)
	// Delete removes the record when it is still at expected.
	Delete(ctx context.Context, expected string) error
	// Where names the record for people (s3://bucket/key or dynamodb://table/LockID).
	Where() string
}
