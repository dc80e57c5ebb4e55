package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// TestSeedRecord: a seed writes, beside the PR state, the record of what
// it copied (addresses, serial, lineage, md5) and none of its values; a
// reseed rewrites it; a record that is not prstate's is refused.
func TestSeedRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := memstore.NewBucket("acme-state")
	prod, pr := "app/terraform.tfstate", "app/pr-7/terraform.tfstate"
	if _, err := tfstate.ReadSeedRecord(ctx, b, pr); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("no record yet: %v", err)
	}
	v1 := []byte(strings.Replace(string(stateJSON(3, "lin-1", "terraform_data.a", "aws_db_instance.main")), `"outputs":{}`, `"outputs":{"db_password":{"value":"PRODUCTION-SECRET","type":"string","sensitive":true}}`, 1))
	mustPut(t, b, prod, v1)
	if _, err := Seed(ctx, clock.Real, b, nil, prod, pr); err != nil {
		t.Fatal(err)
	}
	rec, err := tfstate.ReadSeedRecord(ctx, b, pr)
	if err != nil || rec.Source != prod || rec.Serial != 3 || rec.Lineage != "lin-1" || rec.MD5 != tfstate.MD5Hex(v1) || !slices.Equal(rec.Resources, []string{"terraform_data.a", "aws_db_instance.main"}) {
		t.Fatalf("record %+v, %v", rec, err)
	}
	raw, _ := b.GetObject(ctx, statekey.SeedRecordKey(pr))
	if strings.Contains(string(raw.Body), "PRODUCTION-SECRET") {
		t.Fatalf("the record holds a value: %s", raw.Body)
	}
	v2 := stateJSON(4, "lin-1", "terraform_data.a")
	mustPut(t, b, prod, v2)
	if _, err := Seed(ctx, clock.Real, b, nil, prod, pr); err != nil {
		t.Fatal(err)
	}
	if rec, err := tfstate.ReadSeedRecord(ctx, b, pr); err != nil || rec.Serial != 4 || !slices.Equal(rec.Resources, []string{"terraform_data.a"}) {
		t.Fatalf("after reseed: %+v, %v", rec, err)
	}
	mustPut(t, b, statekey.SeedRecordKey(pr), []byte(`{"source":"x"}`))
	if _, err := tfstate.ReadSeedRecord(ctx, b, pr); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a foreign record was accepted: %v", err)
	}
}
