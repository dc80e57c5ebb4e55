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
	holderAged                      // the record is older than its lease on the store's clock
)

func (r takeoverReason) String() string {
	switch r {
	case holderRunDone:
		return "its GitHub run has completed"
	case holderLeaseLapse:
		return "its lease lapsed without a heartbeat"
	case holderOldAttempt:
		return "it is an earlier attempt of this run (a re-run starts only after the previous attempt completed)"
	case holderAged:
		return "its record is older than its lease by the storage server's clock"
	}
	return "held"
}

// recordAge is how long ago the holder's record was written, on a clock
// every waiter shares (the storage server's), as a lower bound: the skew
// and resolution margins are already taken off. ok is false when unknown.
type recordAge struct {
	d  time.Duration
	ok bool
}

// takeoverInput is what a waiter knows when it decides.
type takeoverInput struct {
	watch          lockWatch
	holder         Holder
	age            recordAge
	fallback       time.Duration // lease when the record names none (our own)
	maxLease       time.Duration // the longest lease we honour (0: any)
	earlierAttempt bool          // the holder is an earlier attempt of our run
	runCompleted   func() bool   // asks GitHub whether the holder's run completed
	now            time.Time
}

// effectiveLease is the holder's lease (or the fallback when the record
// names none), never longer than maxLease.
func (in takeoverInput) effectiveLease() time.Duration {
	lease := in.holder.LeaseDuration()
	if lease <= 0 {
		lease = in.fallback
	}
	if in.maxLease > 0 && (lease <= 0 || lease > in.maxLease) {
		lease = in.maxLease
	}
	return lease
}

// decideTakeover is the rule of DESIGN.md ("One clock rule"). A waiter
// takes over when
//   - the holder is an earlier attempt of our run, or GitHub says its run
//     completed, and (for a holder that heartbeats) its record has not
//     changed for longer than runQuiet on our clock: by then the holder's
//     command is surely gone, whatever its clock says;
//   - the record has not changed for a whole lease on our clock;
//   - or, for a holder without heartbeats only (lock mode, where no waiter
//     may stay a whole lease), the record is older than the lease on the
//     store's clock, which every waiter shares. A heartbeating holder's
//     clock never decides: a slow one would make its record look old.
//
// The lease is the holder's, capped at maxLease.
func decideTakeover(in takeoverInput) takeoverReason {
	if in.watch.since.IsZero() {
		return keepWaiting
	}
	unchanged := in.now.Sub(in.watch.since)
	lease := in.effectiveLease()
	beats := in.holder.HeartbeatDuration() > 0
	if quiet := !beats || lease > 0 && unchanged > runQuiet(lease); quiet {
		if in.earlierAttempt {
			return holderOldAttempt
		}
		if in.runCompleted != nil && in.runCompleted() {
			return holderRunDone
		}
	}
	switch {
	case lease <= 0:
		return keepWaiting
	case unchanged >= lease:
		return holderLeaseLapse
	case !beats && in.age.ok && in.age.d >= lease:
		return holderAged
	}
	return keepWaiting
}

// runQuiet is how long a heartbeating holder's record must stand still on
// a waiter's clock before run liveness (run completed, earlier attempt)
// may decide: the holder's command is surely gone killAfter(lease) after
// the holder sent its last confirmed write, which it sent before we could
// first see it; a renewal's timeout more covers a write still in flight.
func runQuiet(lease time.Duration) time.Duration {
	return killAfter(lease) + renewTimeout(lease)
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
