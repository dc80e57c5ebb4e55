package lockproof

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// TestApplyLockRefusedOnPullRequest: the built binary, as a step of a
// pull_request job, refuses lock, run and unlock with exit 2 before any
// request reaches moto: the apply lock and the ledger do not exist
// afterwards (S3 and DynamoDB lock).
func TestApplyLockRefusedOnPullRequest(t *testing.T) {
	testenv.SkipShort(t, "the built binary on moto")
	for _, backend := range []string{"s3", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			w := newWorld(t, backend)
			payload, err := filepath.Abs(filepath.Join("..", "..", "pipeline", "ci", "testdata", "events", "pull_request_synchronize.json"))
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range actionsEnv(t) {
				switch {
				case strings.HasPrefix(kv, "GITHUB_EVENT_NAME="):
					kv = "GITHUB_EVENT_NAME=pull_request"
				case strings.HasPrefix(kv, "GITHUB_EVENT_PATH="):
					kv = "GITHUB_EVENT_PATH=" + payload
				}
				w.env = append(w.env, kv)
			}
			for _, args := range [][]string{{"lock"}, {"run", "--", "true"}, {"unlock", "--lock-id", "0f6bd0e4-1c1b-4c5f-9e9b-3d5f5e0f6b1a"}} {
				_, stderr := w.output(2, args...)
				if !strings.Contains(stderr, "the apply lock is for the default branch; PR plans use their own key") {
					t.Errorf("%v: %s", args, stderr)
				}
			}
			if n := w.proxy.Counts().Requests; n != 0 {
				t.Errorf("%d requests reached %s", n, w.srv.Name())
			}
			if _, err := w.lockStore().Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("apply lock: %v", err)
			}
			if _, err := w.srv.Bucket(t, w.bucket).GetObject(t.Context(), statekey.LedgerObjectKey(stateKey)); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("ledger object: %v", err)
			}
			if w.table != "" {
				if _, err := w.moto.Table(t, w.table).GetItem(t.Context(), statekey.LedgerItemID(w.bucket, stateKey)); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("ledger item: %v", err)
				}
			}
		})
	}
}
