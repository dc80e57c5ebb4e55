package applylock

import (
	"time"

	"github.com/prstate/prstate/pipeline/escape"
)

// Describe names a Terraform state lock's holder for a log line: who,
// operation, lock ID and since when. Every field came from the store (a
// PR job can write a PR state's lock), so each is escaped.
func (li LockInfo) Describe() string {
	who := "an unknown holder"
	if li.Who != "" {
		who = escape.Log(li.Who)
	}
	s := who + " (" + escape.Log(li.Operation) + ", lock ID " + escape.Log(li.ID)
	if !li.Created.IsZero() {
		s += ", since " + li.Created.UTC().Format(time.RFC3339)
	}
	return s + ")"
}
