package memstore

import (
	"context"
	"fmt"

	"github.com/prstate/prstate/pipeline/storage"
)

// GetObjectVersion reads one version of key by its ID; ErrNotFound when the
// version is gone or is a delete marker. Cleanup uses it to find the seed a
// PR state started from.
func (b *Bucket) GetObjectVersion(ctx context.Context, key, versionID string) (storage.Object, error) {
	b.calls.add("GetObjectVersion")
	if err := ctx.Err(); err != nil {
		return storage.Object{}, fmt.Errorf("failed to get object %s version %s: %w", key, versionID, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, v := range b.keys[key] {
		if v.id != versionID {
			continue
		}
		if v.deleteMarker {
			break
		}
		return v.object(key), nil
	}
	return storage.Object{}, fmt.Errorf("failed to get object %s version %s: %w", key, versionID, storage.ErrNotFound)
}
