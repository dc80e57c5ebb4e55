package storagetest

import (
	"errors"
	"testing"

	"github.com/prstate/prstate/pipeline/storage"
)

// bucketVersionReads: old versions are read by ID, and listings carry each
// version's ETag, the same for a byte copy (cleanup recognises seeds by it).
func bucketVersionReads(t *testing.T, b storage.Bucket, p string) {
	ctx := t.Context()
	k := p + "k"
	v1, v2 := []byte(`{"serial":1}`), []byte(`{"serial":2}`)
	e1, err := b.PutObject(ctx, k, v1, storage.PutOptions{Metadata: map[string]string{"prstate-seed-source": "p"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutObject(ctx, k, v2, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteObject(ctx, k, ""); err != nil {
		t.Fatal(err)
	}
	copyETag, err := b.PutObject(ctx, k+"2", v1, storage.PutOptions{})
	if err != nil || copyETag != e1 {
		t.Fatalf("a byte copy has ETag %s (%v), the original %s", copyETag, err, e1)
	}
	vs, err := b.ListObjectVersions(ctx, k)
	if err != nil || len(vs) != 4 {
		t.Fatalf("%+v %v", vs, err)
	}
	var oldest storage.ObjectVersion
	for _, v := range vs {
		if v.DeleteMarker != (v.ETag == "") {
			t.Fatalf("version %+v has ETag %q", v, v.ETag)
		}
		if v.Key == k && !v.DeleteMarker && v.ETag == e1 {
			oldest = v
		}
	}
	obj, err := b.GetObjectVersion(ctx, k, oldest.VersionID)
	if err != nil || string(obj.Body) != string(v1) || obj.Metadata["prstate-seed-source"] != "p" {
		t.Fatalf("old version: %+v, %v", obj, err)
	}
	if vs[0].Key != k || !vs[0].DeleteMarker {
		t.Fatalf("first version %+v, want %s's delete marker", vs[0], k)
	}
	if _, err := b.GetObjectVersion(ctx, k, vs[0].VersionID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("reading a delete marker: %v", err)
	}
}
