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
	"github.com/prstate/prstate/pipeline/storage/record"
)

// LedgerEntry is the last commit whose apply started under a production
// state's apply lock. Supersede compares the next commit with it.
type LedgerEntry struct {
	SHA string `json:"sha"`
	Run
	PR      int       `json:"pr,omitempty"`
	Started time.Time `json:"started"`
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

// NewLedger returns the ledger of production key: in table, beside the
// apply lock's item, when the lock lives in DynamoDB (lockBackend
// "dynamodb"), in bucket otherwise. The item's JSON is its own version:
// it carries the start time, so two writes never produce the same value
// by accident.
func NewLedger(bucket record.Objects, table record.Items, lockBackend, key string) Ledger {
	if lockBackend == "dynamodb" && table != nil {
		return &ledger{rec: record.DynamoDB(table, statekey.LedgerItemID(bucket.Name(), key), ledgerAttr)}
	}
	return &ledger{rec: record.S3(bucket, statekey.LedgerObjectKey(key), released{})}
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

// ledger is the ledger's record; encodeLedger and decodeLedger are its codec.
type ledger struct{ rec *record.Record }

func (l *ledger) Where() string { return l.rec.Where() }

func (l *ledger) Read(ctx context.Context) (LedgerRecord, error) {
	obs, err := l.rec.Read(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return LedgerRecord{}, nil
	}
	if err != nil {
		return LedgerRecord{}, fmt.Errorf("failed to read the apply ledger %s: %w", l.Where(), err)
	}
	e, err := decodeLedger(l.Where(), obs.Body)
	if err != nil {
		return LedgerRecord{}, err
	}
	return LedgerRecord{Entry: e, version: obs.Version}, nil
}

func (l *ledger) Write(ctx context.Context, prev LedgerRecord, next LedgerEntry) (LedgerRecord, error) {
	return l.WriteChecked(ctx, prev, next, nil)
}

func (l *ledger) WriteChecked(ctx context.Context, prev LedgerRecord, next LedgerEntry, lock *storage.Check) (LedgerRecord, error) {
	body, err := encodeLedger(next)
	if err != nil {
		return LedgerRecord{}, err
	}
	v, err := l.rec.Write(ctx, body, prev.version, lock)
	if errors.Is(err, storage.ErrPrecondition) {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), ErrLedgerChanged)
	}
	if err != nil {
		return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), err)
	}
	return LedgerRecord{Entry: next, version: v}, nil
}
