package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// TestCleanupItemsCountedAlikeInDryRun: a PR whose state versions are gone
// but whose digest item is left: the dry run and the cleanup both report
// 1 item (the digest), not the lock item cleanup took itself.
func TestCleanupItemsCountedAlikeInDryRun(t *testing.T) {
	t.Parallel()
	store, _ := memStore()
	a := newTestApp(t, store)
	writeStack(t, filepath.Join(a.dir, "app"), "app/terraform.tfstate")
	prKey := "app/pr-42/terraform.tfstate"
	digest := statekey.DigestID("acme-state", prKey)
	if err := store.Table.PutItem(t.Context(), storage.Item{storage.KeyAttr: digest, "Digest": "0123456789abcdef0123456789abcdef"}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
	if code := a.run("cleanup", "--working-directory", "app", "--pr", "42", "--dry-run"); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, a.stderr.String())
	}
	dry := a.stdout.String()
	if code := a.run("cleanup", "--working-directory", "app", "--pr", "42"); code != 0 {
		t.Fatalf("cleanup: exit %d: %s", code, a.stderr.String())
	}
	real := a.stdout.String()
	if !strings.Contains(dry, "would remove "+prKey+" (PR #42): 0 version(s), 0 B, 1 item(s)") {
		t.Errorf("dry run: %q", dry)
	}
	if !strings.Contains(real, "removed "+prKey+" (PR #42): 0 version(s), 0 B, 1 item(s)") {
		t.Errorf("cleanup: %q", real)
	}
	if _, err := store.Table.GetItem(t.Context(), digest); err == nil {
		t.Error("the digest item is left")
	}
	if _, err := store.Table.GetItem(t.Context(), statekey.LockItemID("acme-state", prKey)); err == nil {
		t.Error("cleanup's lock item is left")
	}
}
