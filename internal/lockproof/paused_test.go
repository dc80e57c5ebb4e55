package lockproof

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
)

// ledgerEntry reads the ledger directly on the server.
func (w *world) ledgerEntry() applylock.LedgerEntry {
	w.t.Helper()
	var ledger applylock.Ledger
	if w.table != "" {
		ledger = applylock.NewLedger(w.srv.Bucket(w.t, w.bucket), w.moto.Table(w.t, w.table), "dynamodb", stateKey)
	} else {
		ledger = applylock.NewLedger(w.srv.Bucket(w.t, w.bucket), nil, "s3", stateKey)
	}
	rec, err := ledger.Read(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	return rec.Entry
}

// isLedgerRead tells whether a request reads the ledger (S3 GET of its
// object, DynamoDB GetItem of its item).
func isLedgerRead(r *http.Request, body []byte) bool {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetItem") {
		return strings.Contains(string(body), ".prstate-ledger")
	}
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, ".prstate-ledger")
}

// TestPausedHolderResumesWithoutRecording: the holder (commit C) takes
// the lock and is frozen (SIGSTOP) as it reads the ledger, before its
// supersede check: between Acquire and RecordApply. A waiter (commit B,
// older) takes over after the lease, records B and runs its command.
// The holder resumes, reads B, finds C ahead of it, and must not record
// C: its lock is lost. The ledger still names B, the holder's command
// never runs, and it exits non-zero.
func TestPausedHolderResumesWithoutRecording(t *testing.T) {
	testenv.SkipShort(t, "runs the built binary against moto and MinIO")
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			shas := w.history(3) // A < B < C
			shaB, shaC := shas[1], shas[2]

			var (
				pid             atomic.Int64
				once            sync.Once
				paused, resumed = make(chan struct{}), make(chan struct{})
			)
			net := testenv.NewFaultProxy(t, w.endpoint, testenv.Faults{})
			net.OnRequest = func(r *http.Request, body []byte) {
				if !isLedgerRead(r, body) {
					return
				}
				once.Do(func() {
					if err := syscall.Kill(int(pid.Load()), syscall.SIGSTOP); err != nil {
						t.Error(err)
					}
					close(paused)
					<-resumed // the read is forwarded once the waiter is done
				})
			}
			hw := &world{}
			*hw = *w
			hw.endpoint = net.URL
			holder := hw.startApply(shaC, 1, "", 500*time.Millisecond, "--lease", fenceLease.String())
			pid.Store(int64(holder.cmd.Process.Pid))
			select {
			case <-paused:
			case <-time.After(30 * time.Second):
				t.Fatalf("the holder never read the ledger:\n%s", holder.out.String())
			}
			pausedAt := time.Now()
			waiter := w.startApply(shaB, 2, "", 200*time.Millisecond, "--lease", fenceLease.String())
			waitAll(t, 60*time.Second, waiter)
			tookOver := time.Since(pausedAt)
			if e := w.ledgerEntry(); waiter.code != 0 || e.SHA != shaB {
				logAll(t, waiter)
				t.Fatalf("waiter: exit %d, ledger %s", waiter.code, e.SHA)
			}
			close(resumed)
			if err := syscall.Kill(int(pid.Load()), syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			resumedAt := time.Now()
			waitAll(t, 30*time.Second, holder)
			e := w.ledgerEntry()
			t.Logf("%s: holder paused before its supersede check; waiter took over and finished %s later; holder resumed and exited %d after %s; ledger names %s (run %s), commands ran: %v",
				backend, tookOver.Round(time.Millisecond), holder.code, time.Since(resumedAt).Round(time.Millisecond), e.SHA[:7], e.RunID, short(w.applied("")))
			if e.SHA != shaB || e.RunID != "2" {
				logAll(t, holder)
				t.Errorf("the ledger names %s of run %s, want the new holder's commit %s: the paused holder recorded its apply after losing the lock", e.SHA, e.RunID, shaB)
			}
			for _, line := range strings.Split(holder.out.String(), "\n") {
				if strings.Contains(line, "failed to record the apply") {
					t.Logf("%s: holder said: %s", backend, strings.TrimSpace(line))
					break
				}
			}
			if holder.code == 0 || !strings.Contains(holder.out.String(), "failed to record the apply") || !strings.Contains(holder.out.String(), "apply lock lost") {
				logAll(t, holder)
				t.Errorf("holder exit %d", holder.code)
			}
			if got := w.applied(""); len(got) != 1 || got[0] != shaB {
				t.Errorf("commands that ran: %v, want only %s", short(got), shaB[:7])
			}
		})
	}
}
