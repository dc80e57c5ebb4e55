package lockproof

import (
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestFaults: with a proxy that loses responses (after the server applied
// the request), delays, and answers 500 and throttling errors, concurrent
// prstate processes never overlap and leave no lock behind.
func TestFaults(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			p := testenv.NewFaultProxy(t, w.upstream, testenv.Faults{Drop: 0.1, Delay: 0.1, Error500: 0.05, Throttle: 0.05, Serialize: w.moto != nil})
			w.endpoint = p.URL
			for _, f := range contend(t, w, 8, 5) {
				t.Error(f)
			}
			if rec, held := w.holder(t.Context()); held {
				t.Errorf("leaked lock %+v", rec)
			}
			c := p.Counts()
			t.Logf("%s: %d requests: %d responses dropped, %d delayed, %d answered 500, %d throttled", backend, c.Requests, c.Dropped, c.Delayed, c.Errors500, c.Throttled)
			if c.Dropped == 0 || c.Errors500 == 0 || c.Throttled == 0 {
				t.Errorf("faults not injected: %+v", c)
			}
		})
	}
}
