package applylock

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
)

// applyLockOperation is the LockInfo operation of an apply lock.
const applyLockOperation = "prstate-apply"

// Holder says who holds an apply lock in CI terms. It travels as JSON in
// LockInfo.Info, so Terraform's encoding of the record stays untouched.
type Holder struct {
	Run
	SHA string `json:"sha,omitempty"`
	PR  int    `json:"pr,omitempty"`
	// RVN changes at every write of the record (acquire, heartbeat); a
	// waiter that sees it unchanged for a whole lease may take over.
	RVN   string `json:"rvn"`
	Lease string `json:"lease"` // Go duration
	// Heartbeat is how often the holder renews (Go duration); empty for
	// a holder without heartbeats (lock mode).
	Heartbeat string `json:"heartbeat,omitempty"`
	// After is the lock ID of the holder this one saw before it found the
	// lock free and created it (empty after a takeover, or when it saw no
	// one): the proof a retried release of that holder needs that its own
	// release came first.
	After string `json:"after,omitempty"`
	// Renewed is the holder's wall clock at the last write: shown by
	// status; a waiter trusts it only against the store's clock, with a
	// skew margin, where the store keeps no write time of its own.
	Renewed time.Time `json:"renewed"`
}

// LeaseDuration parses Lease; 0 when missing or invalid.
func (h Holder) LeaseDuration() time.Duration {
	d, err := time.ParseDuration(h.Lease)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// HeartbeatDuration parses Heartbeat; 0 when missing or invalid.
func (h Holder) HeartbeatDuration() time.Duration {
	d, err := time.ParseDuration(h.Heartbeat)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// HolderFromEvent fills the CI fields from the event.
func HolderFromEvent(ev ci.Event) Holder {
	return Holder{Run: RunFromEvent(ev), SHA: ev.SHA, PR: ev.PR}
}

// Record is the stored holder record: Terraform's LockInfo with
// the Holder encoded in Info.
type Record struct {
	LockInfo
	Holder Holder
}

// Marshal encodes the record in Terraform's exact LockInfo encoding.
func (r Record) Marshal() []byte {
	info, err := json.Marshal(r.Holder)
	if err != nil {
		panic(fmt.Sprintf("failed to encode holder: %v", err)) // cannot happen: plain fields
	}
	li := r.LockInfo
	li.Info = string(info)
	return li.Marshal()
}

// ParseRecord decodes a stored record. A record whose Info is not
// a holder (a Terraform lock) parses with an empty Holder.
func ParseRecord(b []byte) (Record, error) {
	li, err := ParseLockInfo(b)
	if err != nil {
		return Record{}, err
	}
	r := Record{LockInfo: li}
	if strings.HasPrefix(strings.TrimSpace(li.Info), "{") {
		_ = json.Unmarshal([]byte(li.Info), &r.Holder) // best effort: a foreign Info is not an error
	}
	return r, nil
}

// Describe names the holder for people: run URL (or who), commit, age.
// Every field came from the store, so each is escaped for a log line, and
// without Links to check it against the run URL is marked unverified: see
// DescribeFor.
func (r Record) Describe(now time.Time) string { return r.DescribeFor(now, ci.Links{}) }

// DescribeFor is Describe with the run URL shown as it is only when it is
// one of links' repository's runs on its server.
func (r Record) DescribeFor(now time.Time, links ci.Links) string {
	s := "unknown holder"
	switch {
	case r.Holder.RunURL != "":
		s = links.RunText(r.Holder.RunURL)
	case r.Who != "":
		s = escape.Log(r.Who)
	}
	if r.Holder.SHA != "" {
		s += ", commit " + ci.ShortSHA(escape.SHA(r.Holder.SHA))
	}
	if !r.Created.IsZero() {
		s += ", for " + now.Sub(r.Created).Truncate(time.Second).String()
	}
	return s + ", lock ID " + escape.Log(r.ID)
}

// releasedOperation marks a released S3 lock record: the lock is free.
const releasedOperation = "prstate-released"

// ReleasedRecord is what a release leaves in an S3 lock object. Its fresh
// ID makes its ETag unique, so no later If-Match can confuse two of them.
func ReleasedRecord() []byte {
	return LockInfo{ID: NewLockID(), Operation: releasedOperation, Version: "prstate", Created: time.Now().UTC().Round(0)}.Marshal()
}

// IsReleasedRecord tells whether body is a released record (no lock).
func IsReleasedRecord(body []byte) bool {
	li, err := ParseLockInfo(body)
	return err == nil && li.Operation == releasedOperation
}
