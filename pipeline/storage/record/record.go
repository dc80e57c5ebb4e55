// Package record is the one compare-and-swap record prstate keeps beside
// a state: an S3 object, versioned by its ETag, or one attribute of a
// DynamoDB item, versioned by its own value. The apply lock, the ledger,
// the waiters record and the reviewed plan are each a Record plus a codec
// of their body.
//
// Errors wrap storage.ErrNotFound (no record), storage.ErrPrecondition
// (the record is not at the version a write expected) and
// storage.ErrCheckFailed (a checked write's other item changed).
package record

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// Objects is the part of a bucket an S3 record uses.
type Objects interface {
	Name() string
	GetObject(ctx context.Context, key string) (storage.Object, error)
	PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error)
}

// Items is the part of a table a DynamoDB record uses.
type Items interface {
	Name() string
	GetItemAt(ctx context.Context, lockID string) (storage.Item, time.Time, error)
	PutItem(ctx context.Context, item storage.Item, cond storage.Condition) error
	PutItemChecked(ctx context.Context, item storage.Item, cond storage.Condition, check storage.Check) error
	DeleteItem(ctx context.Context, lockID string, cond storage.Condition) error
}

// Tombstone is what a release leaves in an S3 record, because a DELETE
// is not reliably conditional there (MinIO ignores If-Match, and a stale
// holder's delete would remove the next holder's record). A record
// holding one reads as absent, and Create takes it over.
type Tombstone interface {
	// New returns a fresh tombstone: its ETag differs from every other's.
	New() []byte
	// Is reports whether body is a tombstone.
	Is(body []byte) bool
}

// Observation is one read of a record.
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

// Record is one compare-and-swap record on S3 or DynamoDB.
type Record struct {
	// S3: the object key in bucket; released is nil for a record that is
	// never released.
	bucket   Objects
	key      string
	released Tombstone
	// DynamoDB: attribute attr of item id in table.
	table    Items
	id, attr string
	// enc is how S3 stores what the record writes (zero: the bucket's default).
	enc storage.Encryption
}

// S3 is the record in object key of bucket. A release leaves a tombstone
// of released there; with released nil the record cannot be released.
func S3(bucket Objects, key string, released Tombstone) *Record {
	return &Record{bucket: bucket, key: key, released: released}
}

// S3Encrypted is S3 whose writes ask S3 for encryption enc.
func S3Encrypted(bucket Objects, key string, enc storage.Encryption) *Record {
	return &Record{bucket: bucket, key: key, enc: enc}
}

// DynamoDB is the record in attribute attr of item lockID of table. The
// attribute's value is its own version: each record's codec makes every
// write differ (a new RVN, a start time). A release deletes the item, on
// the condition that it is still at the version (DynamoDB honours it).
func DynamoDB(table Items, lockID, attr string) *Record {
	return &Record{table: table, id: lockID, attr: attr}
}

// Where names the record for people: s3://bucket/key or
// dynamodb://table/LockID.
func (r *Record) Where() string {
	if r.table != nil {
		return "dynamodb://" + r.table.Name() + "/" + r.id
	}
	return "s3://" + r.bucket.Name() + "/" + r.key
}

// Read returns the record, its version and the store's clock;
// storage.ErrNotFound when there is none (or only a tombstone).
func (r *Record) Read(ctx context.Context) (Observation, error) {
	if r.table != nil {
		it, at, err := r.table.GetItemAt(ctx, r.id)
		if err != nil {
			return Observation{}, err
		}
		// DynamoDB keeps no write time; the answer's Date is its clock.
		return Observation{Body: []byte(it[r.attr]), Version: it[r.attr], ServerNow: at}, nil
	}
	o, err := r.bucket.GetObject(ctx, r.key)
	if err != nil {
		return Observation{}, err
	}
	if r.released != nil && r.released.Is(o.Body) {
		return Observation{}, fmt.Errorf("%s is released: %w", r.Where(), storage.ErrNotFound)
	}
	return Observation{Body: o.Body, Version: o.ETag, Written: o.LastModified, ServerNow: o.ServerTime}, nil
}

// Create writes body when there is no record (or only a tombstone) and
// returns its version.
func (r *Record) Create(ctx context.Context, body []byte) (string, error) {
	return r.Write(ctx, body, "", nil)
}

// Replace writes body when the record is still at expected and returns
// its new version.
func (r *Record) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	return r.Write(ctx, body, expected, nil)
}

// Write creates the record (expected "") or replaces it (expected the
// version read), and, with check not nil, only when check holds on
// another item of the same table, in one transaction. Only a DynamoDB
// record takes a check: S3 cannot make a write conditional on another
// object.
func (r *Record) Write(ctx context.Context, body []byte, expected string, check *storage.Check) (string, error) {
	if r.table != nil {
		return r.writeItem(ctx, body, expected, check)
	}
	if check != nil {
		return "", errors.New("an S3 object cannot be written on a condition on " + check.LockID)
	}
	if expected != "" {
		return r.bucket.PutObject(ctx, r.key, body, storage.PutOptions{IfMatch: expected, Encryption: r.enc})
	}
	v, err := r.bucket.PutObject(ctx, r.key, body, storage.PutOptions{IfNoneMatch: true, Encryption: r.enc})
	if !errors.Is(err, storage.ErrPrecondition) || r.released == nil {
		return v, err
	}
	o, rerr := r.bucket.GetObject(ctx, r.key)
	if rerr != nil || !r.released.Is(o.Body) {
		return "", err // taken (or gone again: the caller reads and retries)
	}
	return r.bucket.PutObject(ctx, r.key, body, storage.PutOptions{IfMatch: o.ETag, Encryption: r.enc})
}

func (r *Record) writeItem(ctx context.Context, body []byte, expected string, check *storage.Check) (string, error) {
	cond := storage.Condition{Absent: true}
	if expected != "" {
		cond = storage.Condition{Attr: r.attr, Equals: expected}
	}
	return r.putItem(ctx, body, cond, check)
}

func (r *Record) putItem(ctx context.Context, body []byte, cond storage.Condition, check *storage.Check) (string, error) {
	item := storage.Item{storage.KeyAttr: r.id, r.attr: string(body)}
	var err error
	if check != nil {
		err = r.table.PutItemChecked(ctx, item, cond, *check)
	} else {
		err = r.table.PutItem(ctx, item, cond)
	}
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// Put writes body whatever the record holds: for a record whose every
// write is a whole new fact (the reviewed plan), never for one that is
// compared and swapped.
func (r *Record) Put(ctx context.Context, body []byte) (string, error) {
	if r.table != nil {
		return r.putItem(ctx, body, storage.Condition{}, nil)
	}
	return r.bucket.PutObject(ctx, r.key, body, storage.PutOptions{Encryption: r.enc})
}

// Delete releases the record when it is still at expected: DynamoDB
// deletes the item on that condition; S3 replaces the object, If-Match,
// with a tombstone, and never relies on a DELETE honouring If-Match.
func (r *Record) Delete(ctx context.Context, expected string) error {
	if r.table != nil {
		return r.table.DeleteItem(ctx, r.id, storage.Condition{Attr: r.attr, Equals: expected})
	}
	if r.released == nil {
		return fmt.Errorf("%s is never released", r.Where())
	}
	_, err := r.bucket.PutObject(ctx, r.key, r.released.New(), storage.PutOptions{IfMatch: expected, Encryption: r.enc})
	return err
}

// Guard is the condition that the record is still at version, for a
// write to another item of the same DynamoDB table to send in one
// transaction (Write's check); nil for an S3 record, on which no write
// can be made conditional.
func (r *Record) Guard(version string) *storage.Check {
	if r.table == nil {
		return nil
	}
	return &storage.Check{LockID: r.id, Cond: storage.Condition{Attr: r.attr, Equals: version}}
}
