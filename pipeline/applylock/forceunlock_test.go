package applylock

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestForceUnlockBackupIsNeverAPRKey: the backup beside the state is not
// matched by any key scheme, so cleanup and sweep never take it for a PR
// state; a lock that changed while we looked is left alone.
func TestForceUnlockBackupIsNeverAPRKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	for _, tc := range []struct{ prod, template string }{
		{"app/terraform.tfstate", ""},
		{"terraform.tfstate", ""},
		{"app/terraform.tfstate", "{dir}/pr{pr}.tfstate"},
		{"app/terraform.tfstate", "{dir}/previews/{pr}/{file}"},
	} {
		keys, err := statekey.NewKeys(tc.prod, tc.template)
		if err != nil {
			t.Fatal(err)
		}
		b := memstore.NewBucket("acme")
		b.PutObject(t.Context(), tc.prod, []byte(`{"serial":1}`), storage.PutOptions{})
		store := NewS3LockStore(b, statekey.ApplyLockKey(tc.prod))
		l := NewApplyLock(store, Holder{}, LockOptions{Lease: time.Minute})
		if err := l.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		res, err := ForceUnlock(t.Context(), b, nil, keys, l.ID(), nil, false, now)
		var live *LiveHolderError
		if !errors.As(err, &live) {
			t.Fatalf("%v: a fresh lock was not refused: %v", tc, err)
		}
		res, err = ForceUnlock(t.Context(), b, nil, keys, l.ID(), nil, true, now)
		if err != nil || !res.Removed || !strings.HasPrefix(res.Backup, tc.prod+statekey.BackupInfix) {
			t.Fatalf("%v: %+v, %v", tc, res, err)
		}
		if pr, ok := keys.Match(res.Backup); ok {
			t.Fatalf("%v: backup %s matches PR %d", tc, res.Backup, pr)
		}
		if _, err := store.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("%v: lock not removed: %v", tc, err)
		}
	}
}
