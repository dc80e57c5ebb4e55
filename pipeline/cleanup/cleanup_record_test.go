package cleanup_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestCleanupSeedRecordDecides: when a PR state's seed version is gone
// (expired noncurrent versions), the seed record says what the seed
// brought: the same resources go, an added one is refused, a state of its
// own lineage tracks only its own; without a record every resource counts
// as applied (refused, never deleted). Production's state is never read.
func TestCleanupSeedRecordDecides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := &countingBucket{Bucket: memstore.NewBucket("acme-state"), counts: func(key string) bool { return key == cleanuptest.Prod }}
	s := cleanuptest.Store{Bucket: b, Table: memstore.NewTable("tf-locks")}
	st := cleanuptest.Stack(t, s, true, true, false)
	cleanuptest.Production(t, s) // terraform_data.a and .b
	write := map[int][]byte{
		1: cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b"),
		2: cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.c"),
		3: cleanuptest.StateJSON(1, "own-lineage", "terraform_data.a"),
		4: cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.c"),
	}
	keys := map[int]string{}
	for pr := 1; pr <= 4; pr++ {
		keys[pr] = cleanuptest.SeededPR(t, s, st, pr, 0)
		cleanuptest.Put(t, s, keys[pr], write[pr])
		expireNoncurrent(t, b.Bucket, keys[pr])
	}
	// PR 4 was seeded before seed records existed.
	if err := b.DeleteObjectVersions(ctx, versionsOf(t, b.Bucket, statekey.SeedRecordKey(keys[4]))); err != nil {
		t.Fatal(err)
	}
	b.reads = 0 // the seeds read it; cleanup must not
	res, err := cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{1, 2, 3, 4}, fastOpts())
	var refused []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var oe *cleanup.OrphanError
			if errors.As(e, &oe) {
				refused = append(refused, oe.Key+"="+strings.Join(oe.Addresses, ","))
			}
		}
	}
	sort.Strings(refused)
	want := []string{keys[2] + "=terraform_data.c", keys[3] + "=terraform_data.a", keys[4] + "=terraform_data.a,terraform_data.b,terraform_data.c"}
	if !slices.Equal(refused, want) {
		t.Fatalf("refused %v, want %v (err %v)", refused, want, err)
	}
	if !res[0].Removed() || res[1].Removed() || res[2].Removed() || res[3].Removed() {
		t.Fatalf("results %+v", res)
	}
	if b.reads != 0 {
		t.Fatalf("cleanup read production's state %d times", b.reads)
	}
	if vs := versionsOf(t, b.Bucket, statekey.SeedRecordKey(keys[1])); len(vs) != 0 {
		t.Fatalf("PR 1's seed record left: %+v", vs)
	}
}

func versionsOf(t *testing.T, b *memstore.Bucket, key string) []storage.ObjectVersion {
	t.Helper()
	vs, err := b.ListObjectVersions(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.ObjectVersion
	for _, v := range vs {
		if v.Key == key {
			out = append(out, v)
		}
	}
	return out
}

// expireNoncurrent removes key's noncurrent versions, as a lifecycle rule
// does.
func expireNoncurrent(t *testing.T, b *memstore.Bucket, key string) {
	t.Helper()
	var old []storage.ObjectVersion
	for _, v := range versionsOf(t, b, key) {
		if !v.IsLatest {
			old = append(old, v)
		}
	}
	if err := b.DeleteObjectVersions(context.Background(), old); err != nil {
		t.Fatal(err)
	}
}
