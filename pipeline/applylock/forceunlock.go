package applylock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/usage"
)

// forceUnlockBucket and forceUnlockTable are what force-unlock touches.
type forceUnlockBucket interface {
	lockObjectReader
	PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error)
	DeleteObject(ctx context.Context, key, ifMatch string) error
}

// LockItemDeleter is what force-unlock needs of a table.
type LockItemDeleter interface {
	ScanItems(ctx context.Context, prefix string) ([]storage.Item, error)
	DeleteItem(ctx context.Context, lockID string, cond storage.Condition) error
}

// ForceUnlockResult says what force-unlock did.
type ForceUnlockResult struct {
	Lock     LockEntry `json:"lock"`
	Backup   string    `json:"backup,omitempty"` // s3 key of the state copy
	NoState  bool      `json:"no_state,omitempty"`
	Removed  bool      `json:"removed"`
	Liveness string    `json:"liveness"`
}

// LiveHolderError is returned when force-unlock refuses to remove a live holder's lock.
type LiveHolderError struct{ Lock LockEntry }

func (e *LiveHolderError) Error() string {
	return fmt.Sprintf("refusing to remove lock %s on %s: its holder looks alive (%s); pass --force to remove it anyway", escape.Log(e.Lock.ID), escape.Log(e.Lock.StateKey), describeEntry(e.Lock))
}

// describeEntry names a lock's holder for a line; every field came from
// the store, so each is escaped, and a run URL is not vouched for.
func describeEntry(e LockEntry) string {
	who := ci.Links{}.RunText(e.RunURL)
	if who == "" {
		who = escape.Log(e.Who)
	}
	return fmt.Sprintf("%s, %s, age %s", who, escape.Log(e.Operation), e.Age)
}

// ForceUnlock removes the apply lock or Terraform state lock with this ID:
// it saves a copy of the state object first, refuses a live holder unless
// force, and deletes the lock conditionally on what it read (a lock that
// changed meanwhile is left alone).
func ForceUnlock(ctx context.Context, bucket forceUnlockBucket, table LockItemDeleter, keys statekey.Keys, id string, runs RunChecker, force bool, now time.Time) (ForceUnlockResult, error) {
	var scanner lockItemScanner
	if table != nil {
		scanner = table
	}
	locks, err := ListLocks(ctx, bucket, scanner, runs, now)
	if err != nil {
		return ForceUnlockResult{}, err
	}
	var matches []*LockEntry
	for i := range locks {
		if locks[i].ID == id {
			matches = append(matches, &locks[i])
		}
	}
	if len(matches) == 0 {
		return ForceUnlockResult{}, usage.Errorf("no lock with ID %s in s3://%s (run prstate status)", escape.Log(id), escape.Log(bucket.Name()))
	}
	if ambiguous(matches) {
		// A lock ID is a random UUID, shared only by the lock file and the
		// lock item Terraform takes together on one state. Locks of other
		// states naming it were written to look alike (a PR's lock copying
		// production's ID): removing either could remove the wrong one.
		where := make([]string, len(matches))
		for i, m := range matches {
			where[i] = fmt.Sprintf("%s lock %s of %s (%s)", m.Kind, escape.Log(m.Where), escape.Log(m.StateKey), describeEntry(*m))
		}
		return ForceUnlockResult{}, usage.Errorf("lock ID %s names %d locks, removing none: %s; remove the right one with `terraform force-unlock` in its stack, or delete it by hand after checking it",
			escape.Log(id), len(matches), strings.Join(where, "; "))
	}
	lock := matches[len(matches)-1]
	res := ForceUnlockResult{Lock: *lock, Liveness: liveness(*lock, locks)}
	if res.Liveness == "alive" && !force {
		return res, &LiveHolderError{Lock: *lock}
	}
	backup := statekey.BackupKey(lock.StateKey, now)
	if _, ok := keys.Match(backup); ok || backup == keys.Production {
		return res, fmt.Errorf("failed to back up %s: backup key %s would look like a PR state", lock.StateKey, backup)
	}
	state, err := bucket.GetObject(ctx, lock.StateKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		res.NoState = true
	case err != nil:
		return res, fmt.Errorf("failed to read state %s for a backup: %w", lock.StateKey, err)
	default:
		// The backup is the state: stored as the state is (SSE-S3, or SSE-KMS
		// with the same key), as the seed is, not as the bucket's default.
		if _, err := bucket.PutObject(ctx, backup, state.Body, storage.PutOptions{IfNoneMatch: true, Encryption: state.Encryption}); err != nil {
			return res, fmt.Errorf("failed to back up state %s to %s: %w", lock.StateKey, backup, err)
		}
		res.Backup = backup
	}
	switch {
	case lock.objectKey != "" && lock.Kind == "apply":
		// As a release does: never trust DELETE to honour If-Match.
		err = NewS3LockStore(bucket, lock.objectKey).Delete(ctx, lock.version)
	case lock.objectKey != "":
		err = bucket.DeleteObject(ctx, lock.objectKey, lock.version)
	default:
		err = table.DeleteItem(ctx, lock.itemID, storage.Condition{Attr: lockInfoAttr, Equals: lock.version})
	}
	if errors.Is(err, storage.ErrPrecondition) || errors.Is(err, storage.ErrNotFound) {
		return res, fmt.Errorf("lock %s changed while we looked (released or renewed): left alone; run prstate status", id)
	}
	if err != nil {
		return res, fmt.Errorf("failed to remove lock %s at %s: %w", id, lock.Where, err)
	}
	res.Removed = true
	return res, nil
}

// liveness: an apply lock is alive unless stale; a Terraform lock is
// alive while an apply lock on the same state is (the apply running under
// it holds it), and unknown otherwise.
func liveness(l LockEntry, all []LockEntry) string {
	if l.Kind == "apply" {
		if l.Stale {
			return "stale: " + l.StaleReason
		}
		return "alive"
	}
	for _, o := range all {
		if o.Kind == "apply" && o.StateKey == l.StateKey && !o.Stale {
			return "alive"
		}
	}
	return "unknown (no live apply lock on this state)"
}

// ambiguous tells whether locks with one ID are more than Terraform's own
// pair (its S3 lock file and DynamoDB item of one state, same ID): locks
// of different states or kinds, or two of one store.
func ambiguous(locks []*LockEntry) bool {
	objects, items := 0, 0
	for _, l := range locks {
		if l.Kind != locks[0].Kind || l.StateKey != locks[0].StateKey {
			return true
		}
		if l.objectKey != "" {
			objects++
		} else {
			items++
		}
	}
	return objects > 1 || items > 1
}
