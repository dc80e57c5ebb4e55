package applylock

import (
	"context"
	"errors"
	"fmt"

	"github.com/prstate/prstate/pipeline/storage"
)

type objectCAS interface {
	Name() string
	GetObject(ctx context.Context, key string) (storage.Object, error)
	PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error)
}

// s3LockStore keeps the record as an object, versioned by its ETag:
// If-None-Match creates, If-Match replaces. Release never relies on a
// DELETE honouring If-Match (MinIO ignores it, and a stale holder's delete
// would remove the next holder's record): it replaces the record, If-Match,
// with a released record, which Read reports as absent and Create takes
// over with If-Match on its ETag.
type s3LockStore struct {
	b   objectCAS
	key string
}

// NewS3LockStore keeps a lock record in the object key of b.
func NewS3LockStore(b objectCAS, key string) LockStore { return &s3LockStore{b: b, key: key} }

func (s *s3LockStore) Where() string { return "s3://" + s.b.Name() + "/" + s.key }

func (s *s3LockStore) Create(ctx context.Context, body []byte) (string, error) {
	v, err := s.b.PutObject(ctx, s.key, body, storage.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, storage.ErrPrecondition) {
		return v, err
	}
	o, rerr := s.b.GetObject(ctx, s.key)
	if rerr != nil || !IsReleasedRecord(o.Body) {
		return "", err // held (or gone again: the caller reads and retries)
	}
	return s.b.PutObject(ctx, s.key, body, storage.PutOptions{IfMatch: o.ETag})
}

func (s *s3LockStore) Read(ctx context.Context) (Observation, error) {
	o, err := s.b.GetObject(ctx, s.key)
	if err != nil {
		return Observation{}, err
	}
	if IsReleasedRecord(o.Body) {
		return Observation{}, fmt.Errorf("%s is released: %w", s.Where(), storage.ErrNotFound)
	}
	return Observation{Body: o.Body, Version: o.ETag, Written: o.LastModified, ServerNow: o.ServerTime}, nil
}

func (s *s3LockStore) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	return s.b.PutObject(ctx, s.key, body, storage.PutOptions{IfMatch: expected})
}

func (s *s3LockStore) Delete(ctx context.Context, expected string) error {
	_, err := s.b.PutObject(ctx, s.key, ReleasedRecord(), storage.PutOptions{IfMatch: expected})
	return err
}

// Guard: S3 cannot make a write conditional on another object; a write
// beside the lock reads the record before and after instead.
func (s *s3LockStore) Guard(string) *storage.Check { return nil }
