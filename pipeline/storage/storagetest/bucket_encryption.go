package storagetest

import (
	"testing"

	"github.com/prstate/prstate/pipeline/storage"
)

// bucketEncryption: server-side encryption given on a put is what a get
// reports (the seed copies production's this way).
func bucketEncryption(t *testing.T, b storage.Bucket, p string) {
	for i, enc := range []storage.Encryption{
		{SSE: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/0b8e5f0e-6c5a-4c7e-9a0e-2f1d3c4b5a69"},
		{SSE: "AES256"},
	} {
		key := p + "enc" + string(rune('a'+i))
		_, err := b.PutObject(t.Context(), key, []byte("x"), storage.PutOptions{IfNoneMatch: true, Encryption: enc})
		noErr(t, err, "PutObject with encryption")
		if obj := wantBody(t, b, key, "x"); obj.Encryption != enc {
			t.Errorf("encryption %+v, want %+v", obj.Encryption, enc)
		}
	}
}
