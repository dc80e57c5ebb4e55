package memstore_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"testing"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/storage/storagetest"
)

func TestBucket(t *testing.T) {
	storagetest.RunBucket(t, func(t *testing.T) storage.Bucket { return memstore.NewBucket("test-bucket") })
}

func TestTable(t *testing.T) {
	storagetest.RunTable(t, func(t *testing.T) storage.Table { return memstore.NewTable("test-locks") })
}

func TestETagIsQuotedMD5(t *testing.T) {
	b := memstore.NewBucket("b")
	etag, err := b.PutObject(context.Background(), "k", []byte("hello"), storage.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("hello"))
	if want := `"` + hex.EncodeToString(sum[:]) + `"`; etag != want {
		t.Fatalf("etag %s, want %s", etag, want)
	}
}

func TestCalls(t *testing.T) {
	ctx := context.Background()
	b := memstore.NewBucket("b")
	_, _ = b.PutObject(ctx, "k", nil, storage.PutOptions{})
	_, _ = b.GetObject(ctx, "k")
	_, _ = b.GetObject(ctx, "missing")
	if got := b.Calls(); got["PutObject"] != 1 || got["GetObject"] != 2 || len(got) != 2 {
		t.Fatalf("bucket calls %v", got)
	}
	b.ResetCalls()
	if got := b.Calls(); len(got) != 0 {
		t.Fatalf("calls after reset %v", got)
	}

	tb := memstore.NewTable("t")
	_ = tb.PutItem(ctx, storage.Item{storage.KeyAttr: "x"}, storage.Condition{Absent: true})
	_ = tb.PutItem(ctx, storage.Item{storage.KeyAttr: "x"}, storage.Condition{Absent: true})
	_ = tb.DeleteItems(ctx, []string{"x"})
	if got := tb.Calls(); got["PutItem"] != 2 || got["DeleteItems"] != 1 || len(got) != 2 {
		t.Fatalf("table calls %v", got)
	}
	tb.ResetCalls()
	if got := tb.Calls(); len(got) != 0 {
		t.Fatalf("calls after reset %v", got)
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := memstore.NewBucket("b").GetObject(ctx, "k"); err == nil {
		t.Fatal("GetObject with a canceled context succeeded")
	}
	if err := memstore.NewTable("t").PutItem(ctx, storage.Item{storage.KeyAttr: "x"}, storage.Condition{}); err == nil {
		t.Fatal("PutItem with a canceled context succeeded")
	}
}
