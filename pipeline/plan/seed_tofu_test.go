package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// tofuEncrypted is an OpenTofu 1.10 encrypted state as tofu writes it:
// serial and lineage in plain text, the state itself in encrypted_data.
func tofuEncrypted(serial int, lineage, data string) []byte {
	head := ""
	if lineage != "" {
		head = `"serial":` + itoa(serial) + `,"lineage":"` + lineage + `",`
	}
	return []byte(`{` + head + `"meta":{"key_provider.pbkdf2.k":"eyJzYWx0IjoiM09u"},"encrypted_data":"` + data + `","encryption_version":"v0"}`)
}

// An encrypted production state is seeded byte for byte, with its digest
// and provenance; serial and lineage come from the plain-text envelope, or
// are recorded as unknown. A second plan finds the seed up to date; a new
// production version refreshes it.
func TestSeedEncryptedState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		serial         int
		lineage        string
		wantS, wantL   string
		wantRes        int64
		wantResLineage string
	}{
		{"plain header", 4, "lin-enc", "4", "lin-enc", 4, "lin-enc"},
		{"no plain header", 0, "", SeedUnknown, SeedUnknown, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, tab := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
			prod, pr := "app/terraform.tfstate", "app/pr-7/terraform.tfstate"
			v1 := tofuEncrypted(tc.serial, tc.lineage, "AAAA")
			mustPut(t, b, prod, v1)
			mustDigest(t, tab, prod, v1)
			res, err := Seed(ctx, clock.Real, b, tab, prod, pr)
			if err != nil || !res.Seeded || !res.Encrypted || res.Serial != tc.wantRes || res.Lineage != tc.wantResLineage {
				t.Fatalf("seed: %+v, %v", res, err)
			}
			if w := res.SerialWords(); w != map[bool]string{true: "serial 4", false: "serial unknown (encrypted state)"}[tc.lineage != ""] {
				t.Errorf("SerialWords %q", w)
			}
			got, err := b.GetObject(ctx, pr)
			if err != nil || !bytes.Equal(got.Body, v1) {
				t.Fatalf("PR object %q, %v; want production's bytes", got.Body, err)
			}
			wantMeta := map[string]string{tfstate.MetaSeedSource: prod, tfstate.MetaSeedSerial: tc.wantS, tfstate.MetaSeedLineage: tc.wantL, tfstate.MetaSeedMD5: tfstate.MD5Hex(v1)}
			for k, v := range wantMeta {
				if got.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, got.Metadata[k], v)
				}
			}
			if d, _ := tab.GetItem(ctx, statekey.DigestID("acme-state", pr)); d["Digest"] != tfstate.MD5Hex(v1) {
				t.Fatalf("PR digest %v, want %s", d, tfstate.MD5Hex(v1))
			}
			if res, err := Seed(ctx, clock.Real, b, tab, prod, pr); err != nil || res.Seeded || !strings.Contains(res.Reason, "up-to-date") {
				t.Fatalf("second seed: %+v, %v", res, err)
			}
			v2 := tofuEncrypted(tc.serial+1, tc.lineage, "BBBB")
			mustPut(t, b, prod, v2)
			mustDigest(t, tab, prod, v2)
			if res, err := Seed(ctx, clock.Real, b, tab, prod, pr); err != nil || !res.Seeded {
				t.Fatalf("reseed after production moved: %+v, %v", res, err)
			}
			if got, _ := b.GetObject(ctx, pr); !bytes.Equal(got.Body, v2) {
				t.Fatalf("reseeded PR object %q, want %q", got.Body, v2)
			}
		})
	}
}
