package memstore

import (
	"context"

	"github.com/prstate/prstate/pipeline/storage"
)

// ListObjectVersionsWithETags is ListObjectVersions plus each version's
// ETag ("" for delete markers), in a slice parallel to the versions.
func (b *Bucket) ListObjectVersionsWithETags(ctx context.Context, prefix string) ([]storage.ObjectVersion, []string, error) {
	vs, err := b.ListObjectVersions(ctx, prefix)
	if err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	etags := make([]string, len(vs))
	for i, v := range vs {
		for _, x := range b.keys[v.Key] {
			if x.id == v.VersionID && !x.deleteMarker {
				etags[i] = x.etag
			}
		}
	}
	return vs, etags, nil
}
