// Package storage declares what prstate needs from an S3 bucket and a
// DynamoDB table, in terms small enough that an in-memory fake and the AWS
// adapters can both pass one conformance suite (storage/storagetest).
//
// The domain code in pipeline/ declares narrower interfaces where it uses
// them; these are the full surfaces the adapters implement.
package storage

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound is returned when the object or item does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPrecondition is returned when a conditional write or delete lost (the object or
	// item exists, is absent, or changed since it was read).
	ErrPrecondition = errors.New("precondition failed")
	// ErrCheckFailed is returned when the Check of a checked write failed (the other
	// item is absent or changed); nothing was written.
	ErrCheckFailed = errors.New("condition on another item failed")
)

// Object is an S3 object. ETag is opaque (compared, never parsed).
type Object struct {
	Key          string
	Body         []byte // nil in listings
	ETag         string
	VersionID    string
	Metadata     map[string]string // user metadata, lower-case keys
	Size         int64
	LastModified time.Time
	Encryption   Encryption // how S3 stores it; zero where the store does not say
	// ServerTime is the server's clock when it answered a read (the
	// response's Date header); zero in listings and where unknown.
	ServerTime time.Time
}

// Encryption is an object's server-side encryption: SSE is S3's
// x-amz-server-side-encryption ("AES256", "aws:kms", "aws:kms:dsse"), KMSKeyID
// the KMS key of aws:kms. The zero value means the bucket's default.
type Encryption struct {
	SSE      string
	KMSKeyID string
}

// PutOptions makes a put conditional and attaches user metadata.
type PutOptions struct {
	IfNoneMatch bool   // create only: fail with ErrPrecondition when the key exists
	IfMatch     string // replace only this ETag: fail with ErrPrecondition otherwise
	Metadata    map[string]string
	Encryption  Encryption // zero: the bucket's default
}

// ObjectVersion is one version or delete marker in a versioned bucket.
// In an unversioned bucket VersionID is "null".
type ObjectVersion struct {
	Key          string
	VersionID    string
	DeleteMarker bool
	IsLatest     bool
	ETag         string // "" for delete markers; a byte copy has the same ETag
	Size         int64
	LastModified time.Time
}

// Bucket is one S3 bucket.
type Bucket interface {
	Name() string
	// GetObject reads the current version; ErrNotFound when absent.
	GetObject(ctx context.Context, key string) (Object, error)
	// PutObject writes a new version and returns its ETag.
	PutObject(ctx context.Context, key string, body []byte, opts PutOptions) (etag string, err error)
	// DeleteObject deletes the current version (a delete marker in a
	// versioned bucket). With ifMatch set it is conditional on that ETag
	// (ErrPrecondition when it differs, ErrNotFound when absent). Without,
	// deleting an absent key is not an error.
	DeleteObject(ctx context.Context, key, ifMatch string) error
	// ListObjects lists current objects under prefix, in key order, without bodies.
	ListObjects(ctx context.Context, prefix string) ([]Object, error)
	// GetObjectVersion reads one version by ID; ErrNotFound when it is gone
	// or is a delete marker.
	GetObjectVersion(ctx context.Context, key, versionID string) (Object, error)
	// ListObjectVersions lists every version and delete marker under prefix.
	ListObjectVersions(ctx context.Context, prefix string) ([]ObjectVersion, error)
	// DeleteObjectVersions removes the given versions for good, batching
	// requests. Versions already gone are not an error.
	DeleteObjectVersions(ctx context.Context, versions []ObjectVersion) error
}

// Item is a DynamoDB item keyed by LockID whose attributes are strings
// (Terraform's lock table: LockID, Info, Digest). Other attribute types are
// not represented.
type Item map[string]string

// KeyAttr is the table's partition key, as Terraform requires it.
const KeyAttr = "LockID"

// Condition makes an item write conditional. The zero value is unconditional.
type Condition struct {
	Absent bool   // attribute_not_exists(LockID)
	Attr   string // with Equals: Attr = Equals
	Equals string
}

// Check is a condition on another item of the table that a write depends
// on, evaluated in the same transaction (DynamoDB's ConditionCheck in
// TransactWriteItems).
type Check struct {
	LockID string
	Cond   Condition
}

// Table is one DynamoDB table with partition key LockID (string).
type Table interface {
	Name() string
	// GetItem is a consistent read; ErrNotFound when absent.
	GetItem(ctx context.Context, lockID string) (Item, error)
	// GetItemAt is GetItem that also returns the server's clock when it
	// answered (the response's Date header; zero when unknown).
	GetItemAt(ctx context.Context, lockID string) (Item, time.Time, error)
	// PutItem writes item (which must carry LockID); ErrPrecondition when cond fails.
	PutItem(ctx context.Context, item Item, cond Condition) error
	// PutItemChecked writes item when cond holds on it and check holds on
	// check.LockID, atomically (one TransactWriteItems): ErrPrecondition
	// when cond fails, ErrCheckFailed when check does; nothing is written
	// then.
	PutItemChecked(ctx context.Context, item Item, cond Condition, check Check) error
	// DeleteItem deletes; ErrPrecondition when cond fails (an absent item
	// fails any Attr condition). Unconditional delete of an absent item is fine.
	DeleteItem(ctx context.Context, lockID string, cond Condition) error
	// ScanItems returns every item whose LockID begins with prefix.
	ScanItems(ctx context.Context, prefix string) ([]Item, error)
	// DeleteItems deletes the given LockIDs unconditionally, batching requests.
	DeleteItems(ctx context.Context, lockIDs []string) error
}
