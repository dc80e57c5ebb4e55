package lockproof

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
)

// observer reads the lock record directly from moto every few ms and
// remembers when the holder's record last changed and when someone else
// first held the lock.
type observer struct {
	mu         sync.Mutex
	holderID   string
	lastRVN    string
	lastChange time.Time
	takeover   time.Time
	newID      string
}

func (o *observer) watch(ctx context.Context, w *world) {
	store := w.lockStore()
	for ctx.Err() == nil {
		obs, err := store.Read(ctx)
		now := time.Now()
		rec, perr := applylock.ParseRecord(obs.Body)
		ok := err == nil && perr == nil
		o.mu.Lock()
		switch {
		case !ok:
		case rec.ID == o.holderID && rec.Holder.RVN != o.lastRVN:
			o.lastRVN, o.lastChange = rec.Holder.RVN, now
		case rec.ID != o.holderID && o.takeover.IsZero():
			o.takeover, o.newID = now, rec.ID
		}
		o.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCrashedHolderIsTakenOverAfterItsLease: SIGKILL a `prstate run`
// holder (and its command); a waiter takes over within lease + poll of
// the kill, and never sooner than a whole lease after the holder's last
// heartbeat.
func TestCrashedHolderIsTakenOverAfterItsLease(t *testing.T) {
	const lease = 3 * time.Second
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			ctx := t.Context()
			holder := w.prstate(ctx, "run", "--lease", lease.String(), "--", "sleep", "60")
			holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := holder.Start(); err != nil {
				t.Fatal(err)
			}
			defer holder.Wait()
			defer syscall.Kill(-holder.Process.Pid, syscall.SIGKILL)
			var rec0 string
			waitFor(t, 20*time.Second, "the holder to take the lock", func() bool {
				r, ok := w.holder(ctx)
				rec0 = r.ID
				return ok
			})
			o := &observer{holderID: rec0}
			octx, stop := context.WithCancel(ctx)
			defer stop()
			go o.watch(octx, w)

			var werr bytes.Buffer
			waiter := w.prstate(ctx, "run", "--lease", lease.String(), "--", "sleep", "1")
			waiter.Stderr = &werr
			if err := waiter.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(lease / 2) // the holder heartbeats every lease/3
			kids := children(t, holder.Process.Pid)
			if err := syscall.Kill(holder.Process.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			// Its command (a process group of its own) dies with it.
			for _, kid := range kids {
				waitFor(t, 2*time.Second, "the command to die with prstate", func() bool { return gone(kid) })
			}
			if err := waiter.Wait(); err != nil {
				t.Fatalf("waiter: %v\n%s", err, werr.String())
			}
			stop()
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.takeover.IsZero() {
				t.Fatalf("no takeover observed\n%s", werr.String())
			}
			afterKill, afterBeat := o.takeover.Sub(killed), o.takeover.Sub(o.lastChange)
			t.Logf("%s: takeover %s after the kill, %s after the holder's last heartbeat (lease %s)", backend, afterKill.Round(time.Millisecond), afterBeat.Round(time.Millisecond), lease)
			// Poll 300ms + 25% jitter, plus reads and slack on a loaded machine.
			if afterKill > lease+375*time.Millisecond+time.Second {
				t.Errorf("takeover %s after the kill: later than lease + poll", afterKill)
			}
			// The observer sees a heartbeat at most ~one read late.
			if afterBeat < lease-100*time.Millisecond {
				t.Errorf("takeover only %s after the last heartbeat: sooner than the lease %s", afterBeat, lease)
			}
			for _, want := range []string{"took over the apply lock", rec0, "lease lapsed"} {
				if !strings.Contains(werr.String(), want) {
					t.Errorf("waiter stderr lacks %q:\n%s", want, werr.String())
				}
			}
		})
	}
}
