package plan

import (
	"context"
	"testing"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// A seed is stored with production's server-side encryption, also when it
// replaces an older seed.
func TestSeedKeepsProductionEncryption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := memstore.NewBucket("acme-state")
	prod, pr := "app/terraform.tfstate", "app/pr-7/terraform.tfstate"
	kms := storage.Encryption{SSE: "aws:kms", KMSKeyID: "arn:aws:kms:eu-west-1:123456789012:key/0b8e5f0e-6c5a-4c7e-9a0e-2f1d3c4b5a69"}
	for serial, enc := range []storage.Encryption{kms, {SSE: "AES256"}} {
		if _, err := b.PutObject(ctx, prod, stateJSON(serial+1, "lin-1", "terraform_data.a"), storage.PutOptions{Encryption: enc}); err != nil {
			t.Fatal(err)
		}
		res, err := Seed(ctx, clock.Real, b, nil, prod, pr)
		if err != nil || !res.Seeded {
			t.Fatalf("seed %d: %+v, %v", serial, res, err)
		}
		obj, err := b.GetObject(ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Encryption != enc {
			t.Errorf("seed %d stored with %+v, want production's %+v", serial, obj.Encryption, enc)
		}
	}
}
