package applylock

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// LockInfo is Terraform's lock record (statemgr.LockInfo). Its encoding
// must stay byte-identical to Terraform's: Go's encoding/json of these
// fields, in this order, compact (OpenTofu deletes DynamoDB locks on the
// condition Info = :info).
type LockInfo struct {
	ID        string
	Operation string
	Info      string
	Who       string
	Version   string
	Created   time.Time
	Path      string
}

// Marshal encodes the record exactly as Terraform does.
func (l LockInfo) Marshal() []byte {
	b, err := json.Marshal(l)
	if err != nil {
		panic(fmt.Sprintf("failed to encode lock info: %v", err)) // cannot happen: only strings and a time
	}
	return b
}

// ParseLockInfo decodes a Terraform lock record.
func ParseLockInfo(b []byte) (LockInfo, error) {
	var l LockInfo
	if err := json.Unmarshal(b, &l); err != nil {
		return LockInfo{}, fmt.Errorf("failed to parse lock info: %w", err)
	}
	return l, nil
}

// NewLockID returns a random UUID v4, the form of Terraform's lock IDs.
func NewLockID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("failed to read random bytes: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
