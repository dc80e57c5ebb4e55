package applylock

import (
	"context"

	"github.com/prstate/prstate/pipeline/storage"
)

type objectCAS interface {
	Name() string
	GetObject(ctx context.Context, key string) (storage.Object, error)
	PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error)
	DeleteObject(ctx context.Context, key, ifMatch string) error
}

// s3LockStore keeps the record as an object, versioned by its ETag:
// If-None-Match creates, If-Match replaces and deletes.
type s3LockStore struct {
	b   objectCAS
	key string
}

// NewS3LockStore keeps a lock record in the object key of b.
func NewS3LockStore(b objectCAS, key string) LockStore { return &s3LockStore{b: b, key: key} }

func (s *s3LockStore) Where() string { return "s3://" + s.b.Name() + "/" + s.key }

func (s *s3LockStore) Create(ctx context.Context, body []byte) (string, error) {
	return s.b.PutObject(ctx, s.key, body, storage.PutOptions{IfNoneMatch: true})
}

func (s *s3LockStore) Read(ctx context.Context) ([]byte, string, error) {
	o, err := s.b.GetObject(ctx, s.key)
	if err != nil {
		return nil, "", err
	}
	return o.Body, o.ETag, nil
}

func (s *s3LockStore) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	return s.b.PutObject(ctx, s.key, body, storage.PutOptions{IfMatch: expected})
}

func (s *s3LockStore) Delete(ctx context.Context, expected string) error {
	return s.b.DeleteObject(ctx, s.key, expected)
}
