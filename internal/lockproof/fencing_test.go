package lockproof

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

const fenceLease = 3 * time.Second

func runArgs(lease time.Duration, extra []string, command []string) []string {
	args := append([]string{"run", "--lease", lease.String()}, extra...)
	return append(append(args, "--"), command...)
}

// TestPartitionedHolderFencesItself: the holder's connections to the
// store stop moving bytes. Before its lease can lapse for a waiter it
// stops its command, reports the lock lost and exits non-zero; the
// waiter's command starts only after the holder's stopped.
func TestPartitionedHolderFencesItself(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			tl := newTimeline(t)
			cut := testenv.NewFaultProxy(t, w.endpoint, testenv.Faults{})
			holder := w.start(t, []string{"AWS_ENDPOINT_URL_S3=" + cut.URL, "AWS_ENDPOINT_URL_DYNAMODB=" + cut.URL}, runArgs(fenceLease, nil, tl.forever("A"))...)
			w.holds(t, 20*time.Second, "")
			waitFor(t, 10*time.Second, "the holder's command", func() bool { return tl.spans(t)["A"].lines > 0 })
			waiter := w.start(t, nil, runArgs(fenceLease, []string{"--lock-timeout", "1m"}, tl.forLines("B", 10))...)
			time.Sleep(fenceLease / 2)
			cut.Stall()
			cutAt := time.Now()
			code := holder.wait(t, 30*time.Second)
			wcode := waiter.wait(t, 60*time.Second)
			cut.Resume()
			a, b := tl.spans(t)["A"], tl.spans(t)["B"]
			t.Logf("%s: holder's command stopped %s after the cut, holder exited %d after %s; waiter's command started %s after the cut: gap %s",
				backend, a.last.Sub(cutAt).Round(time.Millisecond), code, holder.ended.Sub(cutAt).Round(time.Millisecond), b.first.Sub(cutAt).Round(time.Millisecond), b.first.Sub(a.last).Round(time.Millisecond))
			if code == 0 {
				t.Errorf("holder exited 0 after losing the lock:\n%s", holder.stderr.String())
			}
			for _, want := range []string{"lost the apply lock", "may have overlapped"} {
				if !strings.Contains(holder.stderr.String(), want) {
					t.Errorf("holder stderr lacks %q:\n%s", want, holder.stderr.String())
				}
			}
			if strings.Contains(holder.stderr.String(), "released the apply lock") {
				t.Errorf("holder reported a release:\n%s", holder.stderr.String())
			}
			if wcode != 0 || b.lines != 10 {
				t.Fatalf("waiter: exit %d, %d lines\n%s", wcode, b.lines, waiter.stderr.String())
			}
			if !b.first.After(a.last) {
				t.Errorf("overlap: the holder's command ran until %s, the waiter's began at %s", a.last, b.first)
			}
			if a.last.Sub(cutAt) > fenceLease {
				t.Errorf("the holder's command ran %s after the cut, past its lease %s", a.last.Sub(cutAt), fenceLease)
			}
		})
	}
}

// TestFrozenHolderStopsOnResume: the holder's whole process tree is
// frozen (SIGSTOP) past its lease and a waiter takes over. On SIGCONT the
// holder stops its command at once, exits non-zero and leaves the new
// holder's record alone (on MinIO too, which ignores If-Match on DELETE).
// It must not need the store to learn that: in the "unreachable" case
// (a paused VM whose network comes back later) the holder's requests stall
// from the moment it resumes.
func TestFrozenHolderStopsOnResume(t *testing.T) {
	for _, backend := range backends {
		for _, unreachable := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unreachable=%v", backend, unreachable), func(t *testing.T) {
				t.Parallel()
				frozenHolder(t, backend, unreachable)
			})
		}
	}
}

func frozenHolder(t *testing.T, backend string, unreachable bool) {
	w := newWorld(t, backend)
	tl := newTimeline(t)
	net := testenv.NewFaultProxy(t, w.endpoint, testenv.Faults{})
	holder := w.start(t, []string{"AWS_ENDPOINT_URL_S3=" + net.URL, "AWS_ENDPOINT_URL_DYNAMODB=" + net.URL}, runArgs(fenceLease, nil, tl.forever("A"))...)
	oldID := w.holds(t, 20*time.Second, "")
	waitFor(t, 10*time.Second, "the holder's command", func() bool { return tl.spans(t)["A"].lines > 0 })
	pid := holder.cmd.Process.Pid
	kids := children(t, pid)
	if len(kids) != 1 {
		t.Fatalf("prstate has children %v, want one (the command)", kids)
	}
	freeze := func(sig syscall.Signal) {
		// The command's group (when it has one of its own) and prstate's.
		if err := syscall.Kill(-kids[0], sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatal(err)
		}
		if err := syscall.Kill(-pid, sig); err != nil {
			t.Fatal(err)
		}
	}
	freeze(syscall.SIGSTOP)
	frozenAt := time.Now()
	waiter := w.start(t, nil, runArgs(fenceLease, []string{"--lock-timeout", "1m"}, tl.forLines("B", 200))...)
	newID := w.holds(t, 20*time.Second, oldID)
	tookOver := time.Now()
	waitFor(t, 10*time.Second, "the waiter's command", func() bool { return tl.spans(t)["B"].lines > 0 })
	time.Sleep(500 * time.Millisecond)
	if unreachable {
		net.Stall()
		defer net.Resume()
	}
	freeze(syscall.SIGCONT)
	resumedAt := time.Now()
	time.Sleep(time.Second)
	after := tl.linesAfter(t, "A", resumedAt)
	code := holder.wait(t, 20*time.Second)
	rec, held := w.holder(t.Context())
	a := tl.spans(t)["A"]
	t.Logf("%s, store unreachable %v: taken over %s after the freeze; on resume the holder's command wrote %d lines (last %s after SIGCONT), holder exited %d after %s",
		backend, unreachable, tookOver.Sub(frozenAt).Round(time.Millisecond), after, a.last.Sub(resumedAt).Round(time.Millisecond), code, holder.ended.Sub(resumedAt).Round(time.Millisecond))
	if code == 0 {
		t.Errorf("holder exited 0:\n%s", holder.stderr.String())
	}
	if !strings.Contains(holder.stderr.String(), "lost the apply lock") || strings.Contains(holder.stderr.String(), "released the apply lock") {
		t.Errorf("holder stderr:\n%s", holder.stderr.String())
	}
	// The guardian wakes with the rest of the tree and kills it at once:
	// a line or two of a writer that writes every 50 ms (a few on a
	// loaded machine), never the half second it would go on for.
	if after > 4 || a.last.Sub(resumedAt) > 500*time.Millisecond {
		t.Errorf("the holder's command ran on after resume: %d lines, until %s after SIGCONT", after, a.last.Sub(resumedAt))
	}
	if !held || rec.ID != newID {
		t.Errorf("the new holder's record was touched: held %v, %+v", held, rec)
	}
	if wcode := waiter.wait(t, 30*time.Second); wcode != 0 || !strings.Contains(waiter.stderr.String(), "released the apply lock") {
		t.Errorf("waiter: exit %d\n%s", wcode, waiter.stderr.String())
	}
}
