package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestSeedKeepsEncryption: a seed is a copy of production's state, secrets
// included, so it is stored with production's server-side encryption (the
// backend block's encrypt / kms_key_id, as terraform wrote production), not
// the bucket's default. Bucket policies that deny puts without the KMS
// header would reject anything else.
func TestSeedKeepsEncryption(t *testing.T) {
	t.Parallel()
	const kmsKey = "arn:aws:kms:us-east-1:123456789012:key/0b8e5f0e-6c5a-4c7e-9a0e-2f1d3c4b5a69"
	for _, tc := range []struct {
		name, block, sse, kmsKey string
	}{
		{"kms", "    encrypt    = true\n    kms_key_id = \"" + kmsKey + "\"\n", "aws:kms", kmsKey},
		{"aes256", "    encrypt = true\n", "AES256", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, lockDynamoDB, true)
			s.backendExtra = tc.block
			s.writeConfig(true, "app")
			s.applyProduction(true)
			sse := func(key string) (string, string) {
				t.Helper()
				out, err := s.moto.S3().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatalf("head %s: %v", key, err)
				}
				return string(out.ServerSideEncryption), aws.ToString(out.SSEKMSKeyId)
			}
			if got, key := sse(prodKey); got != tc.sse || key != tc.kmsKey {
				t.Fatalf("terraform wrote production with %q %q, want %q %q", got, key, tc.sse, tc.kmsKey)
			}
			const prKey = "app/pr-9/terraform.tfstate"
			st := s.mustPrstate(prEvent(t, "opened", 9), map[string]string{"working-directory": "infra", "seed": "production"})
			if !strings.Contains(st.stderr, "seed: seeded from production") {
				t.Fatalf("not seeded:\n%s", st.stderr)
			}
			if got, key := sse(prKey); got != tc.sse || key != tc.kmsKey {
				t.Errorf("seed stored with %q %q, want production's %q %q", got, key, tc.sse, tc.kmsKey)
			}
		})
	}
}
