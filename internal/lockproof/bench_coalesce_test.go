package lockproof

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkCoalesce: an apply holds the lock 2 s while 8 merges arrive in
// order 0.1 s apart, on moto (S3 and DynamoDB lock) and MinIO (S3 lock).
// For each: the applies after the current one and the makespan (from the
// current apply's start to the last job's end) of prstate with coalescing
// (the default), without it (coalesce: false, the behaviour before), and
// of a FIFO in commit order (GitHub's concurrency queue: max), simulated:
// every waiter applies in arrival order, 2 s each. Goal: coalescing makes
// exactly 1 more apply and ends within 2 holds + 1 s.
//
//	go test -run '^$' -bench Coalesce -benchtime 1x ./internal/lockproof/
func BenchmarkCoalesce(b *testing.B) {
	for range b.N {
		fifoApplies, fifoSpan := fifo(benchContenders, benchHold, 100*time.Millisecond)
		fmt.Fprintf(os.Stdout, "\napply holding the lock %s while %d merges arrive 0.1 s apart (goal: 1 more apply within %s)\n", benchHold, benchContenders, 2*benchHold+time.Second)
		fmt.Fprintf(os.Stdout, "%-24s %-34s %22s %10s\n", "store", "", "applies after current", "makespan")
		for _, backend := range backends {
			name := map[string]string{"s3": "moto, S3 lock", "dynamodb": "moto, DynamoDB lock", "minio": "MinIO, S3 lock"}[backend]
			on := benchBurst(b, backend)
			off := benchBurst(b, backend, "--coalesce=false")
			for _, r := range []struct {
				arm     string
				applies int
				span    time.Duration
			}{{"prstate, coalescing", on.applies, on.span}, {"prstate, coalesce: false", off.applies, off.span}, {"FIFO (queue: max), simulated", fifoApplies, fifoSpan}} {
				fmt.Fprintf(os.Stdout, "%-24s %-34s %22d %10s\n", name, r.arm, r.applies, r.span.Round(100*time.Millisecond))
			}
			b.ReportMetric(float64(on.applies), backend+"-coalesce-applies")
			b.ReportMetric(on.span.Seconds(), backend+"-coalesce-makespan-s")
			b.ReportMetric(float64(off.applies), backend+"-nocoalesce-applies")
			b.ReportMetric(off.span.Seconds(), backend+"-nocoalesce-makespan-s")
		}
		b.ReportMetric(float64(fifoApplies), "fifo-applies")
		b.ReportMetric(fifoSpan.Seconds(), "fifo-makespan-s")
	}
}

type burstResult struct {
	applies int // after the current one
	span    time.Duration
}

// benchBurst runs the burst once: the current apply, then 8 merges in
// commit order, with prstate's default lock poll.
func benchBurst(b *testing.B, backend string, extra ...string) burstResult {
	w := newWorld(b, backend)
	w.env = append(w.env, "PRSTATE_LOCK_POLL=") // the default poll interval
	shas := w.history(benchContenders + 1)
	cur := w.startApply(shas[0], 100, "", benchHold, extra...)
	w.waitRan(cur)
	start := time.Now()
	all := []*apply{cur}
	for i := 1; i <= benchContenders; i++ {
		all = append(all, w.startApply(shas[i], 100+i, "", benchHold, extra...))
		time.Sleep(100 * time.Millisecond)
	}
	end := waitAll(b, 5*time.Minute, all...)
	for _, a := range all {
		if a.code != 0 {
			logAll(b, a)
			b.Errorf("%s: exit %d", a.label(), a.code)
		}
	}
	return burstResult{applies: len(w.applied("")) - 1, span: end.Sub(start)}
}

// fifo simulates a FIFO of n waiters arriving every gap while the
// current apply holds the lock for hold: each applies in turn, hold each.
func fifo(n int, hold, gap time.Duration) (int, time.Duration) {
	end := hold // the current apply
	for i := 1; i <= n; i++ {
		arrival := time.Duration(i-1) * gap
		end = max(end, arrival) + hold
	}
	return n, end
}
