package plan

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestReviewedRecord: a reviewed plan is stored under its head SHA and as
// the latest, encrypted as asked, as plain JSON of Reviewed (the wire
// format an earlier version reads), and read back from either.
func TestReviewedRecord(t *testing.T) {
	ctx := t.Context()
	b := memstore.NewBucket("acme")
	const prKey = "app/pr-7/terraform.tfstate"
	head := strings.Repeat("a", 40)
	r := Reviewed{PR: 7, HeadSHA: head, Base: StateRef{Seeded: true, Known: true, Serial: 3, Lineage: "l"}, RecordedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	enc := storage.Encryption{SSE: "aws:kms", KMSKeyID: "k1"}
	if err := SaveReviewed(ctx, b, prKey, r, enc); err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{head, "latest"} {
		o, err := b.GetObject(ctx, statekey.ReviewedPlanKey(prKey, at))
		if err != nil || string(o.Body) != string(want) || o.Encryption != enc {
			t.Fatalf("record at %s: %s %+v %v; want %s", at, o.Body, o.Encryption, err, want)
		}
		got, found, err := LoadReviewed(ctx, b, prKey, at)
		if err != nil || !found || got.HeadSHA != head || got.Base != r.Base || !got.RecordedAt.Equal(r.RecordedAt) {
			t.Fatalf("LoadReviewed(%s) = %+v %v %v", at, got, found, err)
		}
	}
	// A second save replaces the latest.
	r2 := r
	r2.HeadSHA = strings.Repeat("b", 40)
	if err := SaveReviewed(ctx, b, prKey, r2, enc); err != nil {
		t.Fatal(err)
	}
	if got, _, err := LoadReviewed(ctx, b, prKey, "latest"); err != nil || got.HeadSHA != r2.HeadSHA {
		t.Fatalf("latest after a second save: %+v %v", got, err)
	}
	if _, found, err := LoadReviewed(ctx, b, prKey, strings.Repeat("c", 40)); found || err != nil {
		t.Fatalf("a record never made: found %v, %v", found, err)
	}
	if err := SaveReviewed(ctx, b, prKey, Reviewed{PR: 7}, enc); err == nil || !strings.Contains(err.Error(), "head commit is not known") {
		t.Fatalf("saved without a head SHA: %v", err)
	}
}

// TestReviewedRecordGarbage: a record that is not one is an error naming
// it in the one form of every record.
func TestReviewedRecordGarbage(t *testing.T) {
	ctx := t.Context()
	b := memstore.NewBucket("acme")
	const prKey = "app/pr-7/terraform.tfstate"
	for body, why := range map[string]string{"nope": "not a prstate record", `{"head_sha":"x"}`: "its head commit is not a SHA"} {
		if _, err := b.PutObject(ctx, statekey.ReviewedPlanKey(prKey, "latest"), []byte(body), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		_, found, err := LoadReviewed(ctx, b, prKey, "latest")
		if found || err == nil || !strings.Contains(err.Error(), "s3://acme/"+statekey.ReviewedPlanKey(prKey, "latest")) || !strings.Contains(err.Error(), why) {
			t.Fatalf("garbage %q: found %v, %v", body, found, err)
		}
	}
}
