package applylock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// LedgerEntry is the last commit whose apply started under a production
// state's apply lock. Supersede compares the next commit with it.
type LedgerEntry struct {
	SHA        string    `json:"sha"`
	Repository string    `json:"repository,omitempty"`
	RunID      string    `json:"run_id,omitempty"`
	RunAttempt string    `json:"run_attempt,omitempty"`
	RunURL     string    `json:"run_url,omitempty"`
	PR         int       `json:"pr,omitempty"`
	Started    time.Time `json:"started"`
	// Previous is the commit the ledger held before this one: what
	// verify-plan, run under the lock after the ledger moved, compares
	// since (the pull requests this apply brings).
	Previous string `json:"previous,omitempty"`
}

// LedgerRecord is what Read returned: the entry (zero when the ledger is
// empty) and the version a Write must still find.
type LedgerRecord struct {
	Entry   LedgerEntry
	version string // S3 ETag or the item's JSON; "" when absent
}

// Empty tells whether no apply was recorded yet.
func (r LedgerRecord) Empty() bool { return r.Entry.SHA == "" }

// ErrLedgerChanged is returned when the ledger was written by someone else between our
// Read and Write. Under the apply lock that means two holders overlapped.
var ErrLedgerChanged = errors.New("the apply ledger changed since it was read")

// Ledger stores one LedgerEntry beside the apply lock.
type Ledger interface {
	// Where names the item or object, for messages.
	Where() string
	Read(ctx context.Context) (LedgerRecord, error)
	// Write replaces prev with next, only if the ledger still holds prev
	// (ErrLedgerChanged otherwise). Under the apply lock, RecordApply
	// writes through WriteChecked.
	Write(ctx context.Context, prev LedgerRecord, next LedgerEntry) (LedgerRecord, error)
	// WriteChecked is Write that, when lock is not nil, also requires lock
	// to hold on the apply lock's item, in the same transaction
	// (storage.ErrCheckFailed otherwise). Only a ledger in the lock's
	// DynamoDB table takes one.
	WriteChecked(ctx context.Context, prev LedgerRecord, next LedgerEntry, lock *storage.Check) (LedgerRecord, error)
}

// ledgerAttr holds the entry's JSON in the DynamoDB item.
const ledgerAttr = "Ledger"

// ledgerTable is the part of the lock table the ledger uses: a write
// under the lock is conditional on the lock's item (PutItemChecked).
type ledgerTable interface {
	storage.ItemReadWriter
	PutItemChecked(ctx context.Context, item storage.Item, cond storage.Condition, check storage.Check) error
}

// NewLedger returns the ledger of production key: in table, beside the
// apply lock's item, when the lock lives in DynamoDB (lockBackend
// "dynamodb"), in bucket otherwise.
func NewLedger(bucket storage.ObjectReadWriter, table ledgerTable, lockBackend, key string) Ledger {
	if lockBackend == "dynamodb" && table != nil {
		return &tableLedger{table: table, id: statekey.LedgerItemID(bucket.Name(), key)}
	}
	return &bucketLedger{bucket: bucket, key: statekey.LedgerObjectKey(key)}
}

func decodeLedger(where string, data []byte) (LedgerEntry, error) {
	var e LedgerEntry
	if err := json.Unmarshal(data, &e); err != nil || e.SHA == "" {
		return LedgerEntry{}, fmt.Errorf("failed to read the apply ledger %s: not a prstate ledger (%v); delete it to start over", where, err)
	}
	if !escape.IsSHA(e.SHA) {
		// Never passed on to git or the GitHub API, nor shown as it is.
		return LedgerEntry{}, fmt.Errorf("failed to read the apply ledger %s: its commit is %s, not a commit SHA (written by %s); check who wrote it, and delete it to start over",
			where, escape.Invalid, ci.OrWord(escape.Log(e.RunURL), "an unknown run"))
	}
	return e, nil
}

func encodeLedger(e LedgerEntry) ([]byte, error) {
	if e.SHA == "" {
		return nil, errors.New("failed to write the apply ledger: no commit SHA")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the apply ledger: %w", err)
	}
	return b, nil
}

type bucketLedger struct {
	bucket storage.ObjectReadWriter
	key    string
}

func (l *bucketLedger) Where() string { return "s3://" + l.bucket.Name() + "/" + l.key }

func (l *bucketLedger) Read(ctx context.Context) (LedgerRecord, error) {
	obj, err := l.bucket.GetObject(ctx, l.key)
	if errors.Is(err, storage.ErrNotFound) {
		return LedgerRecord{}, nil
	}
	if err != nil {
		return LedgerRecord{}, fmt.Errorf("failed to read the apply ledger %s: %w", l.Where(), err)
	}
	e, err := decodeLedger(l.Where(), obj.Body)
	if err != nil {
		return LedgerRecord{}, err
	}
	return LedgerRecord{Entry: e, version: obj.ETag}, nil
}

func (l *bucketLedger) Write(ctx context.Context, prev LedgerRecord, next LedgerEntry) (LedgerRecord, error) {
	return l.WriteChecked(ctx, prev, next, nil)
}

func (l *bucketLedger) WriteChecked(ctx context.Context, prev LedgerRecord, next LedgerEntry, lock *storage.Check) (LedgerRecord, error) {
	if lock != nil {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: an S3 object cannot be written on a condition on %s", l.Where(), lock.LockID)
	}
	body, err := encodeLedger(next)
	if err != nil {
		return LedgerRecord{}, err
	}
	opts := storage.PutOptions{IfNoneMatch: prev.version == "", IfMatch: prev.version}
	etag, err := l.bucket.PutObject(ctx, l.key, body, opts)
	if errors.Is(err, storage.ErrPrecondition) {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), ErrLedgerChanged)
	}
	if err != nil {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), err)
	}
	return LedgerRecord{Entry: next, version: etag}, nil
}

type tableLedger struct {
	table ledgerTable
	id    string
}

func (l *tableLedger) Where() string { return "DynamoDB item " + l.id }

func (l *tableLedger) Read(ctx context.Context) (LedgerRecord, error) {
	item, err := l.table.GetItem(ctx, l.id)
	if errors.Is(err, storage.ErrNotFound) {
		return LedgerRecord{}, nil
	}
	if err != nil {
		return LedgerRecord{}, fmt.Errorf("failed to read the apply ledger %s: %w", l.Where(), err)
	}
	raw := item[ledgerAttr]
	e, err := decodeLedger(l.Where(), []byte(raw))
	if err != nil {
		return LedgerRecord{}, err
	}
	return LedgerRecord{Entry: e, version: raw}, nil
}

func (l *tableLedger) Write(ctx context.Context, prev LedgerRecord, next LedgerEntry) (LedgerRecord, error) {
	return l.WriteChecked(ctx, prev, next, nil)
}

func (l *tableLedger) WriteChecked(ctx context.Context, prev LedgerRecord, next LedgerEntry, lock *storage.Check) (LedgerRecord, error) {
	body, err := encodeLedger(next)
	if err != nil {
		return LedgerRecord{}, err
	}
	// The item's JSON is its own version: it carries the start time, so two
	// writes never produce the same value by accident.
	cond := storage.Condition{Absent: true}
	if prev.version != "" {
		cond = storage.Condition{Attr: ledgerAttr, Equals: prev.version}
	}
	item := storage.Item{storage.KeyAttr: l.id, ledgerAttr: string(body)}
	if lock != nil {
		err = l.table.PutItemChecked(ctx, item, cond, *lock)
	} else {
		err = l.table.PutItem(ctx, item, cond)
	}
	if errors.Is(err, storage.ErrPrecondition) {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), ErrLedgerChanged)
	}
	if err != nil {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), err)
	}
	return LedgerRecord{Entry: next, version: string(body)}, nil
}
