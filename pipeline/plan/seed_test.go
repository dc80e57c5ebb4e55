package plan

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/tfstate"
)

func stateJSON(serial int, lineage string, resources ...string) []byte {
	var rs []string
	for _, r := range resources {
		typ, name, _ := strings.Cut(r, ".")
		rs = append(rs, `{"mode":"managed","type":"`+typ+`","name":"`+name+`","instances":[]}`)
	}
	return []byte(`{"version":4,"terraform_version":"1.11.4","serial":` + itoa(serial) + `,"lineage":"` + lineage + `","outputs":{},"resources":[` + strings.Join(rs, ",") + `],"check_results":null}`)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, tab := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
	prod, pr := "app/terraform.tfstate", "app/pr-7/terraform.tfstate"

	res, err := Seed(ctx, clock.Real, b, tab, prod, pr)
	if err != nil || res.Seeded || !strings.Contains(res.Reason, "no state") {
		t.Fatalf("empty production: %+v, %v", res, err)
	}
	v1 := stateJSON(3, "lin-1", "terraform_data.a")
	mustPut(t, b, prod, v1)
	mustDigest(t, tab, prod, v1)
	res, err = Seed(ctx, clock.Real, b, tab, prod, pr)
	if err != nil || !res.Seeded || res.Serial != 3 || res.Lineage != "lin-1" || res.Source != prod {
		t.Fatalf("first seed: %+v, %v", res, err)
	}
	got, _ := b.GetObject(ctx, pr)
	if string(got.Body) != string(v1) || got.Metadata[tfstate.MetaSeedSerial] != "3" {
		t.Fatalf("PR object %q meta %v", got.Body, got.Metadata)
	}
	if d, _ := tab.GetItem(ctx, statekey.DigestID("acme-state", pr)); d["Digest"] != tfstate.MD5Hex(v1) {
		t.Fatalf("PR digest %v", d)
	}
	if res, _ := Seed(ctx, clock.Real, b, tab, prod, pr); res.Seeded || !strings.Contains(res.Reason, "up-to-date") {
		t.Fatalf("second seed: %+v", res)
	}
	// Production moved on: an untouched seed is refreshed.
	v2 := stateJSON(4, "lin-1", "terraform_data.a", "terraform_data.b")
	mustPut(t, b, prod, v2)
	mustDigest(t, tab, prod, v2)
	if res, err := Seed(ctx, clock.Real, b, tab, prod, pr); err != nil || !res.Seeded || res.Serial != 4 {
		t.Fatalf("reseed: %+v, %v", res, err)
	}
	// Terraform wrote the PR state (no metadata): never overwritten.
	mustPut(t, b, pr, stateJSON(5, "lin-1"))
	if res, _ := Seed(ctx, clock.Real, b, tab, prod, pr); res.Seeded || !strings.Contains(res.Reason, "written by Terraform") {
		t.Fatalf("after terraform wrote: %+v", res)
	}
}

func TestSeedRefusesProductionNotMatchingDigest(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New()
	start := clk.Now()
	b, tab := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
	mustPut(t, b, "app/terraform.tfstate", stateJSON(1, "l"))
	mustDigest(t, tab, "app/terraform.tfstate", []byte("something else"))
	_, err := Seed(ctx, clk, b, tab, "app/terraform.tfstate", "app/pr-1/terraform.tfstate")
	if err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Fatalf("err = %v", err)
	}
	// It waited as long as Terraform does, on the clock it was given.
	if waited := clk.Now().Sub(start); waited < digestWait || waited > digestWait+digestPoll {
		t.Fatalf("waited %s, want %s", waited, digestWait)
	}
	if _, err := b.GetObject(ctx, "app/pr-1/terraform.tfstate"); err == nil {
		t.Fatal("PR state written despite the digest mismatch")
	}
}

func mustPut(t *testing.T, b storage.Bucket, key string, body []byte) {
	t.Helper()
	if _, err := b.PutObject(context.Background(), key, body, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func mustDigest(t *testing.T, tab storage.Table, key string, body []byte) {
	t.Helper()
	if err := tab.PutItem(context.Background(), storage.Item{storage.KeyAttr: statekey.DigestID("acme-state", key), "Digest": tfstate.MD5Hex(body)}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
}
