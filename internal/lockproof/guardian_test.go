package lockproof

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

// writer is a shell loop appending who's timestamped lines to the
// timeline every 50 ms, for use inside another shell command.
func (tl *timeline) writer(who string) string {
	return `while :; do echo "` + who + ` $(date +%s%N)" >> ` + tl.path + `; sleep 0.05; done`
}

// TestKilledHolderLeavesNoDescendant: `kill -9` of `prstate run` whose
// command put a writer out of its reach (a `setsid`'d background job; a
// recipe of `make`) while a second `prstate run` waits on the same
// lock: the writer is gone before the new holder's command starts, and
// within killAfter(lease) of the kill.
func TestKilledHolderLeavesNoDescendant(t *testing.T) {
	testenv.SkipShort(t, "starts moto and prstate processes")
	const lease = 3 * time.Second
	for _, tc := range []struct {
		name    string
		command func(t *testing.T, tl *timeline) []string
	}{
		{"setsid", func(t *testing.T, tl *timeline) []string {
			testenv.Tool(t, "setsid")
			return []string{"sh", "-c", `setsid sh -c '` + tl.writer("A") + `' & wait`}
		}},
		{"make", func(t *testing.T, tl *timeline) []string {
			mk := testenv.Tool(t, "make")
			mf := filepath.Join(t.TempDir(), "Makefile")
			if err := os.WriteFile(mf, []byte("apply:\n\t"+strings.ReplaceAll(tl.writer("A"), "$", "$$")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{mk, "-s", "-f", mf, "apply"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "s3")
			tl := newTimeline(t)
			holder := w.start(t, nil, runArgs(lease, nil, tc.command(t, tl))...)
			w.holds(t, 20*time.Second, "")
			waitFor(t, 10*time.Second, "the holder's writer", func() bool { return tl.spans(t)["A"].lines > 0 })
			waiter := w.start(t, nil, runArgs(lease, []string{"--lock-timeout", "1m"}, tl.forLines("B", 20))...)
			time.Sleep(lease / 2)
			if err := syscall.Kill(holder.cmd.Process.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killedAt := time.Now()
			holder.wait(t, 10*time.Second)
			if code := waiter.wait(t, 60*time.Second); code != 0 {
				t.Fatalf("waiter: exit %d\n%s", code, waiter.stderr.String())
			}
			time.Sleep(500 * time.Millisecond) // a surviving writer would write on
			a, b := tl.spans(t)["A"], tl.spans(t)["B"]
			after := tl.linesAfter(t, "A", b.first)
			t.Logf("%s: the old writer's last line %s after the kill -9 (killAfter %s), the new holder's first %s after it: gap %s; old lines after the new holder began: %d\n%s",
				tc.name, a.last.Sub(killedAt).Round(time.Millisecond), killAfter(lease), b.first.Sub(killedAt).Round(time.Millisecond), b.first.Sub(a.last).Round(time.Millisecond), after, holder.stderr.String())
			if after != 0 || !b.first.After(a.last) {
				t.Errorf("overlap: %d lines of the killed holder's writer after the new holder began", after)
			}
			if a.last.Sub(killedAt) > killAfter(lease) {
				t.Errorf("the killed holder's writer ran %s after the kill, past killAfter %s", a.last.Sub(killedAt), killAfter(lease))
			}
		})
	}
}

// killAfter is applylock's killAfter (lease*5/6): by then after its last
// confirmed write a holder's command is gone.
func killAfter(lease time.Duration) time.Duration { return lease * 5 / 6 }

// stubborn is a command that survives SIGINT and SIGTERM (its traps
// record when each came, in events) and writes who's lines until killed.
// The traps stamp the time with bash's EPOCHREALTIME (nanoseconds), not a
// date process: the stop signals every new process of the tree, and a
// date started by the trap could die before it prints. LC_NUMERIC=C keeps
// its decimal point a point.
func stubborn(tl *timeline, who, events string) []string {
	return []string{"bash", "-c", `LC_NUMERIC=C; trap 'echo "INT ${EPOCHREALTIME/./}000" >> ` + events + `' INT; trap 'echo "TERM ${EPOCHREALTIME/./}000" >> ` + events + `' TERM; ` + tl.writer(who)}
}

// signalTimes reads the first time of each signal a stubborn command
// recorded.
func signalTimes(t *testing.T, events string) map[string]time.Time {
	t.Helper()
	b, _ := os.ReadFile(events)
	out := map[string]time.Time{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		what, ns, _ := strings.Cut(line, " ")
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			continue
		}
		if _, seen := out[what]; !seen {
			out[what] = time.Unix(0, n)
		}
	}
	return out
}

// TestStubbornCommandIsKilledInTime: a command that survives SIGINT and
// SIGTERM gets SIGINT, then SIGTERM, then SIGKILL, and is gone before
// killAfter(lease) after the holder's last confirmed write: when the
// holder is cut off from the store (the lock is lost), and when it
// receives SIGTERM (the stop takes StopWindow, lease/6).
func TestStubbornCommandIsKilledInTime(t *testing.T) {
	testenv.SkipShort(t, "starts moto and prstate processes")
	const lease = 6 * time.Second
	const window = lease / 6 // applylock.StopWindow
	for _, how := range []string{"lost", "sigterm"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "s3")
			tl := newTimeline(t)
			events := filepath.Join(t.TempDir(), "signals")
			cut := testenv.NewFaultProxy(t, w.endpoint, testenv.Faults{})
			holder := w.start(t, []string{"AWS_ENDPOINT_URL_S3=" + cut.URL}, runArgs(lease, nil, stubborn(tl, "A", events))...)
			w.holds(t, 20*time.Second, "")
			waitFor(t, 10*time.Second, "the holder's command", func() bool { return tl.spans(t)["A"].lines > 0 })
			time.Sleep(lease / 2)
			from := time.Now()
			if how == "lost" {
				cut.Stall() // the last confirmed write was sent before now
				defer cut.Resume()
			} else if err := holder.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code := holder.wait(t, 30*time.Second)
			time.Sleep(300 * time.Millisecond)
			a, sig := tl.spans(t)["A"], signalTimes(t, events)
			in, term := sig["INT"], sig["TERM"]
			t.Logf("%s: SIGINT %s, SIGTERM %s, last line %s after the %s (killAfter %s, stop window %s); exit %d\n%s", how,
				in.Sub(from).Round(time.Millisecond), term.Sub(from).Round(time.Millisecond), a.last.Sub(from).Round(time.Millisecond), map[string]string{"lost": "cut", "sigterm": "signal"}[how], killAfter(lease), window, code, holder.stderr.String())
			if in.IsZero() || term.IsZero() || !in.Before(term) || !term.Before(a.last.Add(100*time.Millisecond)) {
				t.Fatalf("want SIGINT, then SIGTERM, then SIGKILL: SIGINT at %v, SIGTERM at %v, last line at %v", in, term, a.last)
			}
			if d := term.Sub(in); d < window/2 {
				t.Errorf("SIGTERM only %s after SIGINT, want three quarters of the stop window %s", d, window)
			}
			limit := window
			if how == "lost" {
				limit = killAfter(lease)
			}
			if d := a.last.Sub(from); d > limit+200*time.Millisecond {
				t.Errorf("the command ran %s after the %s, past %s", d, how, limit)
			}
			if after := tl.linesAfter(t, "A", a.last); after != 0 || code == 0 {
				t.Errorf("exit %d, %d lines after the last", code, after)
			}
			if how == "lost" && !strings.Contains(holder.stderr.String(), "lost the apply lock") {
				t.Errorf("holder stderr:\n%s", holder.stderr.String())
			}
		})
	}
}

// TestFrozenPrstateAloneIsFencedByItsGuardian: prstate alone is frozen
// (SIGSTOP; its guardian and command run on), so nobody renews the lock
// and nobody in prstate watches the fence. The guardian stops the command
// by the fence's times on its own: gone before killAfter(lease) after
// the freeze, and before the waiter, which takes over after the lease,
// starts its command.
func TestFrozenPrstateAloneIsFencedByItsGuardian(t *testing.T) {
	testenv.SkipShort(t, "starts moto and prstate processes")
	t.Parallel()
	const lease = 3 * time.Second
	w := newWorld(t, "s3")
	tl := newTimeline(t)
	holder := w.start(t, nil, runArgs(lease, nil, tl.forever("A"))...)
	oldID := w.holds(t, 20*time.Second, "")
	waitFor(t, 10*time.Second, "the holder's command", func() bool { return tl.spans(t)["A"].lines > 0 })
	waiter := w.start(t, nil, runArgs(lease, []string{"--lock-timeout", "1m"}, tl.forLines("B", 10))...)
	time.Sleep(lease / 2)
	pid := holder.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozenAt := time.Now()
	newID := w.holds(t, 20*time.Second, oldID)
	if code := waiter.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("waiter: exit %d\n%s", code, waiter.stderr.String())
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	code := holder.wait(t, 20*time.Second)
	a, b := tl.spans(t)["A"], tl.spans(t)["B"]
	t.Logf("the frozen holder's command stopped %s after the freeze (killAfter %s), the waiter's began %s after it: gap %s; holder exited %d once resumed\n%s",
		a.last.Sub(frozenAt).Round(time.Millisecond), killAfter(lease), b.first.Sub(frozenAt).Round(time.Millisecond), b.first.Sub(a.last).Round(time.Millisecond), code, holder.stderr.String())
	if !b.first.After(a.last) || tl.linesAfter(t, "A", b.first) != 0 {
		t.Errorf("overlap: the frozen holder's command ran until %s, the waiter's began at %s", a.last, b.first)
	}
	if a.last.Sub(frozenAt) > killAfter(lease) {
		t.Errorf("the frozen holder's command ran %s after the freeze, past killAfter %s", a.last.Sub(frozenAt), killAfter(lease))
	}
	if rec, held := w.holder(t.Context()); held && rec.ID != newID {
		t.Errorf("the lock is held by %s, neither free nor the waiter's %s", rec.ID, newID)
	}
	if code == 0 || !strings.Contains(holder.stderr.String(), "lost the apply lock") {
		t.Errorf("holder: exit %d\n%s", code, holder.stderr.String())
	}
}
