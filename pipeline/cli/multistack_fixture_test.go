package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prstate/prstate/pipeline/storage"
)

// writeThreeStacks writes a repository of three stacks under root:
// stacks/app and stacks/db call the local module modules/shared (which
// calls modules/inner), stacks/net calls none. Their production keys sort
// in another order than their directories (db < net < app), so a test
// sees that locks are taken by key, not by directory.
func writeThreeStacks(t *testing.T, root string) {
	t.Helper()
	backendBlock := func(key string) string {
		return "terraform {\n  backend \"s3\" {\n    bucket = \"acme-state\"\n    key    = \"" + key + "\"\n    region = \"us-east-1\"\n  }\n}\n"
	}
	files := map[string]string{
		"stacks/app/main.tf":     backendBlock("prod/c-app/terraform.tfstate") + "module \"shared\" {\n  source = \"../../modules/shared\"\n}\n",
		"stacks/db/main.tf":      backendBlock("prod/a-db/terraform.tfstate"),
		"stacks/db/modules.tf":   "module \"shared\" {\n  source = \"../../modules/shared\"\n}\n",
		"stacks/net/main.tf":     backendBlock("prod/b-net/terraform.tfstate") + "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
		"modules/shared/main.tf": "module \"inner\" {\n  source = \"../inner\"\n}\n",
		"modules/inner/main.tf":  "variable \"x\" {}\n",
		"modules/unused/main.tf": "variable \"y\" {}\n",
		"README.md":              "three stacks\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// orderBucket records, in order, every write of an apply lock object.
type orderBucket struct {
	storage.Bucket
	mu   sync.Mutex
	puts []string
}

func (b *orderBucket) PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error) {
	etag, err := b.Bucket.PutObject(ctx, key, body, opts)
	if err == nil && strings.HasSuffix(key, ".prstate-apply.lock") {
		b.mu.Lock()
		b.puts = append(b.puts, key)
		b.mu.Unlock()
	}
	return etag, err
}

func (b *orderBucket) writes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.puts...)
}
