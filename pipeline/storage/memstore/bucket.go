package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// Bucket is an in-memory, always versioned S3 bucket.
type Bucket struct {
	name  string
	calls callCounter

	mu   sync.Mutex
	keys map[string][]*version // per key, oldest first
	seq  uint64
}

var _ storage.Bucket = (*Bucket)(nil)

// version is one object version or delete marker.
type version struct {
	id           string
	deleteMarker bool
	body         []byte
	etag         string
	metadata     map[string]string
	encryption   storage.Encryption
	lastModified time.Time
}

// NewBucket returns an empty versioned bucket.
func NewBucket(name string) *Bucket {
	return &Bucket{name: name, keys: make(map[string][]*version)}
}

// Name returns the bucket name.
func (b *Bucket) Name() string { return b.name }

// Calls returns how many times each method was called, by method name.
func (b *Bucket) Calls() map[string]int { return b.calls.snapshot() }

// ResetCalls sets every call count back to zero.
func (b *Bucket) ResetCalls() { b.calls.reset() }

// etagOf is S3's ETag of a single-part upload: the quoted hex MD5 of the body.
func etagOf(body []byte) string {
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// latest returns the current version of key, or nil when the key has none
// or its current version is a delete marker. Callers hold b.mu.
func (b *Bucket) latest(key string) *version {
	vs := b.keys[key]
	if len(vs) == 0 || vs[len(vs)-1].deleteMarker {
		return nil
	}
	return vs[len(vs)-1]
}

// push appends a new version to key and returns it. Callers hold b.mu.
func (b *Bucket) push(key string, v *version) *version {
	b.seq++
	v.id = fmt.Sprintf("%016x", b.seq)
	v.lastModified = time.Now().UTC()
	b.keys[key] = append(b.keys[key], v)
	return v
}

// GetObject reads the current version of key; ErrNotFound when absent or
// deleted.
func (b *Bucket) GetObject(ctx context.Context, key string) (storage.Object, error) {
	b.calls.add("GetObject")
	if err := ctx.Err(); err != nil {
		return storage.Object{}, fmt.Errorf("failed to get object %s: %w", key, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.latest(key)
	if v == nil {
		return storage.Object{}, fmt.Errorf("failed to get object %s: %w", key, storage.ErrNotFound)
	}
	o := v.object(key)
	o.ServerTime = time.Now().UTC()
	return o, nil
}

// object is a copy of the version as an Object.
func (v *version) object(key string) storage.Object {
	body := cloneBytes(v.body)
	if body == nil {
		body = []byte{}
	}
	return storage.Object{
		Key:          key,
		Body:         body,
		ETag:         v.etag,
		VersionID:    v.id,
		Metadata:     cloneMetadata(v.metadata),
		Size:         int64(len(v.body)),
		LastModified: v.lastModified,
		Encryption:   v.encryption,
	}
}

// PutObject writes a new version of key, honouring IfNoneMatch and IfMatch
// like S3: IfNoneMatch fails when a current version exists, IfMatch fails
// unless the current version has that ETag (also when the key is absent).
func (b *Bucket) PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error) {
	b.calls.add("PutObject")
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("failed to put object %s: %w", key, err)
	}
	if key == "" {
		return "", errors.New("failed to put object: empty key")
	}
	if opts.IfNoneMatch && opts.IfMatch != "" {
		return "", fmt.Errorf("failed to put object %s: IfNoneMatch and IfMatch are exclusive", key)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.latest(key)
	if opts.IfNoneMatch && cur != nil {
		return "", fmt.Errorf("failed to put object %s: object exists: %w", key, storage.ErrPrecondition)
	}
	if opts.IfMatch != "" && (cur == nil || cur.etag != opts.IfMatch) {
		return "", fmt.Errorf("failed to put object %s: etag differs: %w", key, storage.ErrPrecondition)
	}
	v := b.push(key, &version{
		body:       cloneBytes(body),
		etag:       etagOf(body),
		metadata:   cloneMetadata(opts.Metadata),
		encryption: opts.Encryption,
	})
	return v.etag, nil
}

// DeleteObject adds a delete marker to key. With ifMatch it first checks
// the current version: ErrNotFound when there is none, ErrPrecondition when
// its ETag differs.
func (b *Bucket) DeleteObject(ctx context.Context, key, ifMatch string) error {
	b.calls.add("DeleteObject")
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to delete object %s: %w", key, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ifMatch != "" {
		cur := b.latest(key)
		if cur == nil {
			return fmt.Errorf("failed to delete object %s: %w", key, storage.ErrNotFound)
		}
		if cur.etag != ifMatch {
			return fmt.Errorf("failed to delete object %s: etag differs: %w", key, storage.ErrPrecondition)
		}
	}
	b.push(key, &version{deleteMarker: true})
	return nil
}

// sortedKeys returns the keys under prefix in order. Callers hold b.mu.
func (b *Bucket) sortedKeys(prefix string) []string {
	var keys []string
	for k := range b.keys {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// ListObjects lists the current objects under prefix in key order, without
// bodies; deleted keys are skipped.
func (b *Bucket) ListObjects(ctx context.Context, prefix string) ([]storage.Object, error) {
	b.calls.add("ListObjects")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to list objects %s: %w", prefix, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []storage.Object
	for _, k := range b.sortedKeys(prefix) {
		v := b.latest(k)
		if v == nil {
			continue
		}
		out = append(out, storage.Object{
			Key:          k,
			ETag:         v.etag,
			Size:         int64(len(v.body)),
			LastModified: v.lastModified,
		})
	}
	return out, nil
}

// ListObjectVersions lists every version and delete marker under prefix,
// in key order and, within a key, newest first.
func (b *Bucket) ListObjectVersions(ctx context.Context, prefix string) ([]storage.ObjectVersion, error) {
	b.calls.add("ListObjectVersions")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to list object versions %s: %w", prefix, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []storage.ObjectVersion
	for _, k := range b.sortedKeys(prefix) {
		vs := b.keys[k]
		for i := len(vs) - 1; i >= 0; i-- {
			v := vs[i]
			ov := storage.ObjectVersion{
				Key:          k,
				VersionID:    v.id,
				DeleteMarker: v.deleteMarker,
				IsLatest:     i == len(vs)-1,
				Size:         int64(len(v.body)),
				LastModified: v.lastModified,
			}
			if !v.deleteMarker {
				ov.ETag = v.etag
			}
			out = append(out, ov)
		}
	}
	return out, nil
}

// DeleteObjectVersions removes the given versions and delete markers for
// good. Versions already gone are not an error; an empty VersionID is.
func (b *Bucket) DeleteObjectVersions(ctx context.Context, versions []storage.ObjectVersion) error {
	b.calls.add("DeleteObjectVersions")
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to delete object versions: %w", err)
	}
	for _, v := range versions {
		if v.VersionID == "" {
			return fmt.Errorf("failed to delete object versions: %s: empty version ID", v.Key)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ov := range versions {
		vs := b.keys[ov.Key]
		for i, v := range vs {
			if v.id == ov.VersionID {
				vs = append(vs[:i], vs[i+1:]...)
				break
			}
		}
		if len(vs) == 0 {
			delete(b.keys, ov.Key)
		} else {
			b.keys[ov.Key] = vs
		}
	}
	return nil
}
