package cleanuptest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// versionReader is what cleanup asks of a bucket beyond storage.Bucket.
type versionReader interface {
	GetObjectVersion(ctx context.Context, key, versionID string) (storage.Object, error)
	ListObjectVersionsWithETags(ctx context.Context, prefix string) ([]storage.ObjectVersion, []string, error)
}

// TestVersionReads: both stores read old versions by ID and list ETags
// the way cleanup relies on (a seed's ETag is production's).
func TestVersionReads(t *testing.T) {
	m := testenv.Moto(t)
	for name, b := range map[string]storage.Bucket{
		"memstore": memstore.NewBucket("acme-state"),
		"moto":     m.Bucket(t, m.NewBucket(t, true)),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			vr := b.(versionReader)
			v1, v2 := cleanuptest.StateJSON(1, "l"), cleanuptest.StateJSON(2, "l")
			e1, _ := b.PutObject(ctx, "k", v1, storage.PutOptions{Metadata: map[string]string{"prstate-seed-source": "p"}})
			if _, err := b.PutObject(ctx, "k", v2, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := b.DeleteObject(ctx, "k", ""); err != nil {
				t.Fatal(err)
			}
			copyETag, _ := b.PutObject(ctx, "k2", v1, storage.PutOptions{})
			if copyETag != e1 {
				t.Fatalf("a byte copy has ETag %s, the original %s", copyETag, e1)
			}
			vs, etags, err := vr.ListObjectVersionsWithETags(ctx, "k")
			if err != nil || len(vs) != 4 || len(etags) != 4 {
				t.Fatalf("%+v %v %v", vs, etags, err)
			}
			var oldest storage.ObjectVersion
			for i, v := range vs {
				if v.DeleteMarker != (etags[i] == "") {
					t.Fatalf("version %+v has ETag %q", v, etags[i])
				}
				if v.Key == "k" && !v.DeleteMarker && etags[i] == e1 {
					oldest = v
				}
			}
			obj, err := vr.GetObjectVersion(ctx, "k", oldest.VersionID)
			if err != nil || string(obj.Body) != string(v1) || obj.Metadata["prstate-seed-source"] != "p" {
				t.Fatalf("old version: %+v, %v", obj, err)
			}
			if vs[0].Key != "k" || !vs[0].DeleteMarker {
				t.Fatalf("first version %+v, want k's delete marker", vs[0])
			}
			if _, err := vr.GetObjectVersion(ctx, "k", vs[0].VersionID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("reading a delete marker: %v", err)
			}
		})
	}
}
