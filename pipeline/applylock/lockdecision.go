package applylock

import (
	"strconv"
	"time"
)

// lockWatch is what a waiter remembers of the holder it observes: the
// holder's ID and record version, and when (on the waiter's own monotonic
// clock) it first saw that pair. Only the waiter's clock is used, so the
// rule needs no synchronized clocks (as Amazon's dynamodb-lock-client).
type lockWatch struct {
	id, version string
	since       time.Time // waiter's clock, carries the monotonic reading
}

// observe returns the watch after seeing (id, version) at now: unchanged
// when it is the pair already watched, restarted otherwise.
func (w lockWatch) observe(id, version string, now time.Time) lockWatch {
	if w.id == id && w.version == version && !w.since.IsZero() {
		return w
	}
	return lockWatch{id: id, version: version, since: now}
}

// takeoverReason says why a waiter may replace the holder's record.
type takeoverReason int

const (
	keepWaiting      takeoverReason = iota
	holderRunDone                   // the GitHub API says the holder's run completed
	holderLeaseLapse                // the record did not change for a whole lease
	holderOldAttempt                // the holder is an earlier attempt of our own run
)

func (r takeoverReason) String() string {
	switch r {
	case holderRunDone:
		return "its GitHub run has completed"
	case holderLeaseLapse:
		return "its lease lapsed without a heartbeat"
	case holderOldAttempt:
		return "it is an earlier attempt of this run (a re-run starts only after the previous attempt completed)"
	}
	return "held"
}

// decideTakeover is the rule of DESIGN.md: take over only when the holder's
// run completed, or the watched version stayed the same for a whole lease
// (the holder's lease, or fallback when the record names none).
func decideTakeover(w lockWatch, holderLease, fallback time.Duration, runCompleted bool, now time.Time) takeoverReason {
	if w.since.IsZero() {
		return keepWaiting
	}
	if runCompleted {
		return holderRunDone
	}
	lease := holderLease
	if lease <= 0 {
		lease = fallback
	}
	if lease > 0 && now.Sub(w.since) >= lease {
		return holderLeaseLapse
	}
	return keepWaiting
}

// earlierAttempt tells whether holder is an earlier attempt of the run we
// are part of. Attempts of one run never overlap: GitHub starts a re-run
// only once the previous attempt completed, so that holder is dead even
// though the run (now at our attempt) is in progress.
func earlierAttempt(holder, ours Holder) bool {
	if holder.Repository == "" || holder.RunID == "" || holder.Repository != ours.Repository || holder.RunID != ours.RunID {
		return false
	}
	h, err1 := strconv.Atoi(holder.RunAttempt)
	o, err2 := strconv.Atoi(ours.RunAttempt)
	return err1 == nil && err2 == nil && h < o
}
