package applylock

import (
	"testing"
	"time"
)

// TestStopScheduleFitsTheLease: for every lease from the minimum up, the
// margin holds a renewal's timeout and the graceful stop, SIGINT <
// SIGTERM < SIGKILL, and SIGKILL leaves a reserve before the earliest
// takeover; at the minimum each part is at least 0.5 s, and from
// GracefulLease on the graceful stop has 10 s.
func TestStopScheduleFitsTheLease(t *testing.T) {
	t.Parallel()
	for _, lease := range []time.Duration{MinLease, 6 * time.Second, 30 * time.Second, GracefulLease, 5 * time.Minute, time.Hour} {
		sent := time.Unix(1000, 0)
		stop := sent.Add(lease - fenceMargin(lease)) // the fence's deadline: SIGINT
		kill := sent.Add(killAfter(lease))
		term := StopSchedule(stop, kill)
		reserve := lease - killAfter(lease)
		t.Logf("lease %s: SIGINT %s, SIGTERM %s, SIGKILL %s after the last send; renewal timeout %s, reserve %s", lease, stop.Sub(sent), term.Sub(sent), kill.Sub(sent), renewTimeout(lease), reserve)
		if !stop.Before(term) || !term.Before(kill) {
			t.Errorf("lease %s: SIGINT %v, SIGTERM %v, SIGKILL %v out of order", lease, stop, term, kill)
		}
		if kill.Sub(stop) != StopWindow(lease) {
			t.Errorf("lease %s: stop takes %s, StopWindow says %s", lease, kill.Sub(stop), StopWindow(lease))
		}
		if renewTimeout(lease)+StopWindow(lease) > fenceMargin(lease) {
			t.Errorf("lease %s: margin %s holds no renewal (%s) and stop (%s)", lease, fenceMargin(lease), renewTimeout(lease), StopWindow(lease))
		}
		if min(renewTimeout(lease), StopWindow(lease), reserve) < 500*time.Millisecond {
			t.Errorf("lease %s: a part is under 0.5 s: renewal %s, stop %s, reserve %s", lease, renewTimeout(lease), StopWindow(lease), reserve)
		}
		if lease >= GracefulLease && StopWindow(lease) < 10*time.Second {
			t.Errorf("lease %s: graceful stop only %s", lease, StopWindow(lease))
		}
	}
	if at := StopSchedule(time.Unix(10, 0), time.Unix(5, 0)); !at.Equal(time.Unix(5, 0)) {
		t.Errorf("a kill time already past: SIGTERM at %v, want with SIGKILL", at)
	}
}
