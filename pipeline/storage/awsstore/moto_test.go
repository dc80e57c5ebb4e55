package awsstore_test

import (
	"errors"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// TestConfigFromEnv goes through the SDK default chain, as the CLI does.
func TestConfigFromEnv(t *testing.T) {
	m := testenv.Moto(t)
	bucket, table := m.NewBucket(t, true), m.NewTable(t)
	m.Setenv(t)
	cfg, err := awsstore.Config(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	b := awsstore.NewBucket(awsstore.NewS3Client(cfg), bucket)
	if _, err := b.PutObject(t.Context(), "k", []byte("v"), storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if obj, err := b.GetObject(t.Context(), "k"); err != nil || string(obj.Body) != "v" {
		t.Fatalf("GetObject: %q, %v", obj.Body, err)
	}
	tb := awsstore.NewTable(awsstore.NewDynamoDBClient(cfg), table)
	if err := tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: "x"}, storage.Condition{Absent: true}); err != nil {
		t.Fatal(err)
	}
}

// TestUnversionedBucket: versions are "null" and can still be deleted.
func TestUnversionedBucket(t *testing.T) {
	m := testenv.Moto(t)
	b := m.Bucket(t, m.NewBucket(t, false))
	if _, err := b.PutObject(t.Context(), "k", []byte("v"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	vs, err := b.ListObjectVersions(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].VersionID != "null" || !vs[0].IsLatest {
		t.Fatalf("versions %+v, want one latest with VersionID null", vs)
	}
	if err := b.DeleteObjectVersions(t.Context(), vs); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetObject(t.Context(), "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetObject after delete: %v", err)
	}
}

// TestMissingBucketAndTable: a missing bucket or table is an error of its
// own, never ErrNotFound (which would read as "nothing to clean up").
func TestMissingBucketAndTable(t *testing.T) {
	m := testenv.Moto(t)
	b := m.Bucket(t, "prstate-test-no-such-bucket")
	ctx := t.Context()
	_, err := b.GetObject(ctx, "k")
	wantOther(t, err, "GetObject")
	_, err = b.PutObject(ctx, "k", nil, storage.PutOptions{IfMatch: `"x"`})
	wantOther(t, err, "PutObject IfMatch")
	wantOther(t, b.DeleteObject(ctx, "k", ""), "DeleteObject")
	wantOther(t, b.DeleteObject(ctx, "k", `"x"`), "DeleteObject ifMatch")
	_, err = b.ListObjects(ctx, "")
	wantOther(t, err, "ListObjects")
	_, err = b.ListObjectVersions(ctx, "")
	wantOther(t, err, "ListObjectVersions")

	tb := m.Table(t, "prstate-test-no-such-table")
	_, err = tb.GetItem(ctx, "x")
	wantOther(t, err, "GetItem")
	wantOther(t, tb.DeleteItem(ctx, "x", storage.Condition{}), "DeleteItem")
	_, err = tb.ScanItems(ctx, "")
	wantOther(t, err, "ScanItems")
	wantOther(t, tb.DeleteItems(ctx, []string{"x"}), "DeleteItems")
}

func wantOther(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("%s on a missing resource: got %v, want an error that is neither ErrNotFound nor ErrPrecondition", what, err)
	}
}
