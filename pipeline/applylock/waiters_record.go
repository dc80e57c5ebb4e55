package applylock

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/record"
)

// Waiter is one run waiting for the apply lock of a production state, as
// it announces itself in the waiters record beside the lock. RVN changes
// at every heartbeat; an observer that sees it unchanged for a whole
// Lease (on its own clock) treats the waiter as gone.
type Waiter struct {
	ID  string `json:"id"` // random, one per waiting process
	SHA string `json:"sha"`
	Run
	PR      int       `json:"pr,omitempty"`
	Since   time.Time `json:"since"`   // the waiter's wall clock when it started waiting
	Renewed time.Time `json:"renewed"` // its wall clock at its last heartbeat (shown only)
	RVN     string    `json:"rvn"`
	Lease   string    `json:"lease"` // Go duration
}

// LeaseDuration parses Lease, capped at maxWaiterLease; 0 when invalid.
func (w Waiter) LeaseDuration() time.Duration {
	d, err := time.ParseDuration(w.Lease)
	if err != nil || d <= 0 {
		return 0
	}
	return min(d, maxWaiterLease)
}

// waitersRecord is what the record holds: every announced waiter.
type waitersRecord struct {
	Waiters []Waiter `json:"waiters"`
}

func parseWaiters(body []byte) ([]Waiter, error) {
	var r waitersRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("not a prstate waiters record: %w", err)
	}
	return r.Waiters, nil
}

func marshalWaiters(ws []Waiter) []byte {
	if ws == nil {
		ws = []Waiter{}
	}
	b, err := json.Marshal(waitersRecord{Waiters: ws})
	if err != nil {
		panic(fmt.Sprintf("failed to encode waiters: %v", err)) // cannot happen: plain fields
	}
	return b
}

// NewWaitersStore is the waiters record of production key, in the same
// store as its apply lock: the DynamoDB item <bucket>/<key>.prstate-waiters
// (attribute Waiters, never Info, so status and Terraform never take it
// for a lock) when the lock is an item, else the S3 object
// <key>.prstate-waiters.json. Both are compare-and-swap records, as the
// lock is; marshalWaiters and parseWaiters are its codec.
func NewWaitersStore(bucket record.Objects, table record.Items, lockBackend, key string) LockStore {
	if lockBackend == "dynamodb" && table != nil {
		return record.DynamoDB(table, statekey.WaitersItemID(bucket.Name(), key), waitersAttr)
	}
	return NewS3LockStore(bucket, statekey.WaitersObjectKey(key))
}

// waitersAttr holds the record's JSON in the DynamoDB item.
const waitersAttr = "Waiters"
