package lockproof

import (
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
)

// TestForgedLeaseIsCapped: a record that asks for a 10-year lease (anyone
// who can write the lock can write one) is honoured for max-lease at
// most, then taken over.
func TestForgedLeaseIsCapped(t *testing.T) {
	const maxLease = 4 * time.Second
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			forged := applylock.Record{
				LockInfo: applylock.LockInfo{ID: "forged-" + backend, Operation: "prstate-apply", Who: "mallory@nowhere", Created: time.Now().UTC()},
				Holder:   applylock.Holder{RVN: "forever", Lease: (10 * 365 * 24 * time.Hour).String(), Renewed: time.Now().Add(10 * 365 * 24 * time.Hour).UTC()},
			}
			if _, err := w.lockStore().Create(t.Context(), forged.Marshal()); err != nil {
				t.Fatal(err)
			}
			written := time.Now()
			// run: lock refuses a lease under applylock.MinLockLease, and
			// max-lease must not be shorter than our own lease.
			code, stderr, took := w.run(t, nil, "run", "--max-lease", maxLease.String(), "--lease", "3s", "--lock-timeout", "30s", "--", "true")
			t.Logf("%s: the forged 87600h lease was taken over %s after it was written (max-lease %s): exit %d", backend, time.Since(written).Round(time.Millisecond), maxLease, code)
			if code != 0 || !strings.Contains(stderr, "took over the apply lock") || !strings.Contains(stderr, "forged-"+backend) {
				t.Fatalf("exit %d after %s\n%s", code, took, stderr)
			}
			if took < maxLease || took > maxLease+3*time.Second {
				t.Errorf("taken over after %s, want max-lease %s and at most 3s more", took, maxLease)
			}
		})
	}
}

// TestLockModeWaitersShareTheServerClock: a `prstate lock` holder (no
// heartbeats) dies; waiters come and go with a lock-timeout shorter than
// its lease (the shortest lock accepts, applylock.MinLockLease), so none
// of them ever watches the record for a whole lease on its own clock. They still take it over within lease + margin of its
// write, and never before the lease, by the record's age on the storage
// server's clock (S3: Last-Modified against Date; DynamoDB: the holder's
// write time against Date, less --clock-skew).
func TestLockModeWaitersShareTheServerClock(t *testing.T) {
	const lease = applylock.MinLockLease
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			before := time.Now()
			id, _ := w.output(0, "lock", "--lease", lease.String())
			id = strings.TrimSpace(id)
			written := time.Now() // the record was written between before and now
			waiters := 0
			for {
				waiters++
				code, stderr, _ := w.run(t, nil, "lock", "--lease", lease.String(), "--lock-timeout", "1s", "--clock-skew", "1s")
				if code == 0 {
					// Either this waiter took the dead holder's record over,
					// or an earlier one did and, cut off by its own 1 s
					// lock-timeout before it saw the answer, removed its
					// record again (an interrupted acquire leaves no lock):
					// then this one finds the lock free. The times below
					// judge both: free before the lease would be a breach.
					tookOver := strings.Contains(stderr, "took over the apply lock") && strings.Contains(stderr, id) && strings.Contains(stderr, "older than its lease")
					if !tookOver && !strings.Contains(stderr, "holding the apply lock") {
						t.Errorf("stderr:\n%s", stderr)
					}
					break
				}
				if code != 3 {
					t.Fatalf("waiter %d: exit %d\n%s", waiters, code, stderr)
				}
				if time.Since(written) > 3*lease {
					t.Fatalf("no takeover %s after the holder's write, by %d waiters", time.Since(written), waiters)
				}
			}
			at := time.Now()
			t.Logf("%s: taken over by waiter %d, %s to %s after the holder's write (lease %s)", backend, waiters, at.Sub(written).Round(time.Millisecond), at.Sub(before).Round(time.Millisecond), lease)
			// The margin: up to 2 s of HTTP-date resolution (whole seconds
			// on both dates), the skew (DynamoDB), a waiter's start-up.
			margin := 3 * time.Second
			if backend == "dynamodb" {
				margin += time.Second
			}
			if at.Sub(written) < lease-time.Second {
				t.Errorf("taken over %s after the write: before the lease %s", at.Sub(written), lease)
			}
			if at.Sub(before) > lease+margin {
				t.Errorf("taken over %s after the write: later than lease %s + margin %s", at.Sub(before), lease, margin)
			}
		})
	}
}
