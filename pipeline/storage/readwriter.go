package storage

import "context"

// ObjectReadWriter is the part of a bucket that seed and the plan records use.
type ObjectReadWriter interface {
	Name() string
	GetObject(ctx context.Context, key string) (Object, error)
	PutObject(ctx context.Context, key string, body []byte, opts PutOptions) (string, error)
}

// ItemReadWriter is the part of a table that seed uses.
type ItemReadWriter interface {
	GetItem(ctx context.Context, lockID string) (Item, error)
	PutItem(ctx context.Context, item Item, cond Condition) error
}
