package lockproof

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestFaults: with a proxy that loses responses (after the server applied
// the request), delays, and answers 500 and throttling errors, concurrent
// prstate processes never overlap and leave no lock behind.
//
// A release whose answer was lost and whose retry finds the next holder,
// who never saw this one (a 10 ms hold is shorter than a poll), cannot
// prove that its delete came first: it reports the lock lost ("may have
// overlapped", exit 1), never released. Those reports are counted, not
// failures: the critical section itself shows no overlap.
func TestFaults(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			p := testenv.NewFaultProxy(t, w.upstream, testenv.Faults{Drop: 0.1, Delay: 0.1, Error500: 0.05, Throttle: 0.05, Serialize: w.moto != nil})
			w.endpoint = p.URL
			conservative := 0
			for _, f := range contend(t, w, 8, 5) {
				if lostAtRelease(f) {
					conservative++
					continue
				}
				t.Error(f)
			}
			if rec, held := w.holder(t.Context()); held {
				t.Errorf("leaked lock %+v", rec)
			}
			c := p.Counts()
			t.Logf("%s: %d requests: %d responses dropped, %d delayed, %d answered 500, %d throttled; %d of 40 releases reported the lock lost (a lost answer, no proof), no overlap", backend, c.Requests, c.Dropped, c.Delayed, c.Errors500, c.Throttled, conservative)
			if c.Dropped == 0 || c.Errors500 == 0 || c.Throttled == 0 {
				t.Errorf("faults not injected: %+v", c)
			}
		})
	}
}

// lostAtRelease tells whether a contend failure is a release that found
// the next holder's record after its command ended (exit 1, "left alone").
func lostAtRelease(f string) bool {
	return strings.Contains(f, ": exit status 1: ") && strings.Contains(f, "lost the apply lock") && strings.Contains(f, "while sh ran") && strings.Contains(f, "left alone")
}
