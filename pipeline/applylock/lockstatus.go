package applylock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// LockEntry is one apply lock or Terraform state lock, as status shows it.
type LockEntry struct {
	Kind        string    `json:"kind"` // apply | terraform
	Where       string    `json:"where"`
	StateKey    string    `json:"state_key"`
	ID          string    `json:"id"`
	Operation   string    `json:"operation"`
	Who         string    `json:"who"`
	Repository  string    `json:"repository,omitempty"`
	RunID       string    `json:"run_id,omitempty"`
	RunURL      string    `json:"run_url,omitempty"`
	SHA         string    `json:"sha,omitempty"`
	PR          int       `json:"pr,omitempty"`
	Created     time.Time `json:"created"`
	Age         string    `json:"age"`
	Lease       string    `json:"lease,omitempty"`
	Renewed     time.Time `json:"renewed,omitzero"`
	Stale       bool      `json:"stale"`
	StaleReason string    `json:"stale_reason,omitempty"`

	objectKey string // S3 lock object, or
	itemID    string // DynamoDB LockID
	version   string // ETag or Info, for a conditional delete
}

// lockReader is what status needs of a bucket and a table.
type lockObjectReader interface {
	Name() string
	ListObjects(ctx context.Context, prefix string) ([]storage.Object, error)
	GetObject(ctx context.Context, key string) (storage.Object, error)
}

type lockItemScanner interface {
	ScanItems(ctx context.Context, prefix string) ([]storage.Item, error)
}

// ListLocks returns every apply lock and Terraform state lock in the
// bucket (S3 lock objects) and, when table is not nil, in the table (items
// of this bucket that carry Info). runs, when not nil, marks locks whose
// GitHub run has completed as stale.
func ListLocks(ctx context.Context, bucket lockObjectReader, table lockItemScanner, runs RunChecker, now time.Time) ([]LockEntry, error) {
	var out []LockEntry
	objs, err := bucket.ListObjects(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("failed to list locks in s3://%s: %w", bucket.Name(), err)
	}
	for _, o := range objs {
		var kind, state string
		switch {
		case strings.HasSuffix(o.Key, statekey.ApplyLockSuffix):
			kind, state = "apply", strings.TrimSuffix(o.Key, statekey.ApplyLockSuffix)
		case strings.HasSuffix(o.Key, statekey.TerraformLockSuffix):
			kind, state = "terraform", strings.TrimSuffix(o.Key, statekey.TerraformLockSuffix)
		default:
			continue
		}
		full, err := bucket.GetObject(ctx, o.Key)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				continue // released since the listing
			}
			return nil, fmt.Errorf("failed to read lock s3://%s/%s: %w", bucket.Name(), o.Key, err)
		}
		if IsReleasedRecord(full.Body) {
			continue // what a release leaves: no lock
		}
		e := newLockEntry(kind, state, full.Body, now)
		e.Where, e.objectKey, e.version = "s3://"+bucket.Name()+"/"+o.Key, o.Key, full.ETag
		out = append(out, e)
	}
	if table != nil {
		items, err := table.ScanItems(ctx, bucket.Name()+"/")
		if err != nil {
			return nil, fmt.Errorf("failed to list locks in the DynamoDB table: %w", err)
		}
		for _, it := range items {
			info := it["Info"]
			if info == "" {
				continue // digests, and locks of nothing
			}
			id := it[storage.KeyAttr]
			kind, state := "terraform", strings.TrimPrefix(id, bucket.Name()+"/")
			if strings.HasSuffix(state, statekey.ApplyLockItemSuffix) {
				kind, state = "apply", strings.TrimSuffix(state, statekey.ApplyLockItemSuffix)
			}
			e := newLockEntry(kind, state, []byte(info), now)
			e.Where, e.itemID, e.version = "dynamodb://"+tableName(table)+"/"+id, id, info
			out = append(out, e)
		}
	}
	for i := range out {
		markStale(ctx, &out[i], runs, now)
	}
	return out, nil
}

func tableName(t lockItemScanner) string {
	if n, ok := t.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "table"
}

func newLockEntry(kind, state string, body []byte, now time.Time) LockEntry {
	e := LockEntry{Kind: kind, StateKey: state}
	rec, err := ParseRecord(body)
	if err != nil {
		e.ID, e.Operation = "?", "unreadable record"
		return e
	}
	h := rec.Holder
	e.ID, e.Operation, e.Who, e.Created = rec.ID, rec.Operation, rec.Who, rec.Created
	e.Repository, e.RunID, e.RunURL, e.SHA, e.PR, e.Lease, e.Renewed = h.Repository, h.RunID, h.RunURL, h.SHA, h.PR, h.Lease, h.Renewed
	if !rec.Created.IsZero() {
		e.Age = now.Sub(rec.Created).Truncate(time.Second).String()
	}
	return e
}

// markStale: an apply lock is stale when its lease lapsed by the holder's
// own renewal time (status only: takeovers never trust clocks), or when
// GitHub says its run completed.
func markStale(ctx context.Context, e *LockEntry, runs RunChecker, now time.Time) {
	if e.Kind != "apply" {
		return
	}
	if d, err := time.ParseDuration(e.Lease); err == nil && !e.Renewed.IsZero() && now.Sub(e.Renewed) > d {
		e.Stale, e.StaleReason = true, "lease "+e.Lease+" lapsed "+now.Sub(e.Renewed.Add(d)).Truncate(time.Second).String()+" ago"
		return
	}
	if runs == nil || e.Repository == "" || e.RunID == "" {
		return
	}
	id, err := strconv.ParseInt(e.RunID, 10, 64)
	if err != nil {
		return
	}
	if done, err := runs.RunCompleted(ctx, e.Repository, id); err == nil && done {
		e.Stale, e.StaleReason = true, "GitHub run "+e.RunID+" completed"
	}
}
