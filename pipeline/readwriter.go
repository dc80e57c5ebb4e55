package pipeline

import (
	"context"

	"github.com/prstate/prstate/pipeline/storage"
)

// objectReadWriter is the part of a bucket that seed and the ledger use.
type objectReadWriter interface {
	Name() string
	GetObject(ctx context.Context, key string) (storage.Object, error)
	PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error)
}

// ItemReadWriter is the part of a table that seed and the ledger use.
type ItemReadWriter interface {
	GetItem(ctx context.Context, lockID string) (storage.Item, error)
	PutItem(ctx context.Context, item storage.Item, cond storage.Condition) error
}
