package applylock

import (
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestForceUnlockBackupKeepsTheStatesEncryption: the backup of a state
// stored with SSE-KMS is stored with SSE-KMS and the same key (and SSE-S3
// likewise), not with the bucket's default; in memory and on moto (which
// records the KMS key ID it is given, as the storage conformance suite
// shows, without needing the key to exist).
func TestForceUnlockBackupKeepsTheStatesEncryption(t *testing.T) {
	t.Parallel()
	m := testenv.Moto(t)
	buckets := map[string]func() storage.Bucket{
		"memstore": func() storage.Bucket { return memstore.NewBucket("acme") },
		"moto":     func() storage.Bucket { return m.Bucket(t, m.NewBucket(t, true)) },
	}
	kms := storage.Encryption{SSE: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/0b8e5f0e-6c5a-4c7e-9a0e-2f1d3c4b5a69"}
	for name, newBucket := range buckets {
		for _, enc := range []storage.Encryption{kms, {SSE: "AES256"}} {
			t.Run(name+" "+enc.SSE, func(t *testing.T) {
				t.Parallel()
				prod := "app/terraform.tfstate"
				keys, err := statekey.NewKeys(prod, "")
				if err != nil {
					t.Fatal(err)
				}
				b := newBucket()
				if _, err := b.PutObject(t.Context(), prod, []byte(`{"serial":1}`), storage.PutOptions{Encryption: enc}); err != nil {
					t.Fatal(err)
				}
				l := NewApplyLock(NewS3LockStore(b, statekey.ApplyLockKey(prod)), Holder{}, LockOptions{Lease: time.Minute})
				if err := l.Acquire(t.Context()); err != nil {
					t.Fatal(err)
				}
				res, err := ForceUnlock(t.Context(), b, nil, keys, l.ID(), nil, true, time.Now())
				if err != nil || res.Backup == "" {
					t.Fatalf("%+v, %v", res, err)
				}
				obj, err := b.GetObject(t.Context(), res.Backup)
				if err != nil {
					t.Fatal(err)
				}
				if obj.Encryption != enc {
					t.Fatalf("backup %s stored with %+v, want the state's %+v", res.Backup, obj.Encryption, enc)
				}
			})
		}
	}
}
