package cleanup_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestCleanupRemovesReviewedPlans: cleanup removes a PR's reviewed-plan
// records with its state (every version), and leaves another PR's and
// anything beside production alone.
func TestCleanupRemovesReviewedPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := memstore.NewBucket("acme-state")
	s := cleanuptest.Store{Bucket: b, Table: memstore.NewTable("tf-locks")}
	st := cleanuptest.Stack(t, s, false, true, false)
	cleanuptest.Production(t, s)
	key := cleanuptest.SeededPR(t, s, st, 7, 0)
	other := cleanuptest.SeededPR(t, s, st, 8, 0)
	put := func(k string) {
		for i := 0; i < 2; i++ { // two versions
			if _, err := b.PutObject(ctx, k, []byte(`{"pr":7}`), storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mine := []string{statekey.ReviewedPlanKey(key, strings.Repeat("a", 40)), statekey.ReviewedPlanKey(key, "latest")}
	keep := []string{statekey.ReviewedPlanKey(other, "latest"), statekey.ReviewedPlanKey(cleanuptest.Prod, "latest")}
	for _, k := range append(append([]string(nil), mine...), keep...) {
		put(k)
	}
	res, err := cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{7}, cleanup.Options{})
	if err != nil || len(res) != 1 || !res[0].Removed() {
		t.Fatalf("cleanup: %+v, %v", res, err)
	}
	for _, k := range mine {
		if _, err := b.GetObject(ctx, k); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s left behind (%v)", k, err)
		}
		if vs, _ := b.ListObjectVersions(ctx, k); len(vs) != 0 {
			t.Errorf("%s: %d versions left", k, len(vs))
		}
	}
	for _, k := range keep {
		if _, err := b.GetObject(ctx, k); err != nil {
			t.Errorf("%s removed: %v", k, err)
		}
	}
}

// TestCleanupRemovesReviewedPlansWithoutState: a PR planned without a
// seed may have records and no state (terraform plan writes none): cleanup
// removes the records all the same.
func TestCleanupRemovesReviewedPlansWithoutState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := memstore.NewBucket("acme-state")
	s := cleanuptest.Store{Bucket: b, Table: memstore.NewTable("tf-locks")}
	st := cleanuptest.Stack(t, s, false, true, false)
	cleanuptest.Production(t, s)
	key, err := st.Keys.Render(9)
	if err != nil {
		t.Fatal(err)
	}
	rec := statekey.ReviewedPlanKey(key, "latest")
	if _, err := b.PutObject(ctx, rec, []byte(`{}`), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{9}, cleanup.Options{})
	if err != nil || len(res) != 1 || res[0].Error != "" {
		t.Fatalf("cleanup: %+v, %v", res, err)
	}
	if vs, _ := b.ListObjectVersions(ctx, rec); len(vs) != 0 {
		t.Fatalf("%s: %d versions left (%+v)", rec, len(vs), res)
	}
}
