package lockproof

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
)

const applylockWaiterLease = applylock.DefaultWaiterLease

const coalesceHold = 2 * time.Second

// burstHold is how long the apply a burst of merges arrives behind holds.
const burstHold = 4 * time.Second

// TestCoalesceBurst: an apply holds the lock for 4 s while 8 merges
// arrive in order, 0.1 s apart. Only the newest applies after it (for
// 2 s); the 7 older ones exit 0 with superseded=true, and their step
// summaries name the commit and run that applied their change. It all
// ends within the two holds (and some slack for a loaded machine). The
// first hold leaves the newest merge, started 0.8 s in, over 2 s to
// announce its wait (its second look at the lock) before the lock frees:
// with 2 s that margin was half a second on a loaded machine.
func TestCoalesceBurst(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			shas := w.history(benchContenders + 1)
			cur := w.startApply(shas[0], 100, "", burstHold)
			w.waitRan(cur)
			start := time.Now()
			all := []*apply{cur}
			for i := 1; i <= benchContenders; i++ {
				all = append(all, w.startApply(shas[i], 100+i, "", coalesceHold))
				time.Sleep(100 * time.Millisecond)
			}
			end := waitAll(t, time.Minute, all...)
			defer func() {
				if t.Failed() {
					logAll(t, all...)
				}
			}()
			newest := all[benchContenders]
			for _, a := range all {
				if a.code != 0 {
					t.Errorf("%s: exit %d", a.label(), a.code)
				}
				want := "true"
				if a == cur || a == newest {
					want = "false"
				}
				if got := a.superseded(); got != want {
					t.Errorf("%s: superseded=%q, want %q", a.label(), got, want)
				}
				if want == "true" && (!strings.Contains(a.summary(), newest.sha[:7]) || !strings.Contains(a.summary(), runURL(newest.run))) {
					t.Errorf("%s: the summary does not name %s: %s", a.label(), newest.label(), a.summary())
				}
			}
			if got, want := w.applied(""), []string{cur.sha, newest.sha}; !slices.Equal(got, want) {
				t.Errorf("applied %v, want %v", short(got), short(want))
			}
			if took := end.Sub(start); took > burstHold+coalesceHold+3*time.Second {
				t.Errorf("the burst took %s, want about the two holds (%s)", took.Round(100*time.Millisecond), burstHold+coalesceHold)
			}
		})
	}
}

// TestCoalesceNewestWaiterKilled: while an apply holds the lock, merges
// 1 < 2 < 3 wait; 1 and 2 defer to 3. 3 is killed (SIGKILL: its waiter
// record stays, and goes stale): 2 then applies and 1 is skipped. When 3
// is cancelled instead (SIGTERM), it removes its record and 2 contends
// again at once, well before a waiter lease.
func TestCoalesceNewestWaiterKilled(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		backend string
		sig     os.Signal
	}{{"s3", os.Kill}, {"dynamodb", os.Kill}, {"minio", syscall.SIGTERM}} {
		backend := c.backend
		t.Run(backend+"/"+c.sig.String(), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			shas := w.history(4)
			cur := w.startApply(shas[0], 100, "", 4*coalesceHold) // 3 is killed while it holds
			w.waitRan(cur)
			a1 := w.startApply(shas[1], 101, "", coalesceHold)
			a2 := w.startApply(shas[2], 102, "", coalesceHold)
			a3 := w.startApply(shas[3], 103, "", coalesceHold)
			all := []*apply{cur, a1, a2, a3}
			defer func() {
				if t.Failed() {
					logAll(t, all...)
				}
			}()
			waitFor(t, 20*time.Second, a1.label()+" to defer", func() bool {
				return strings.Contains(a1.out.String(), "is contained in commit ")
			})
			waitFor(t, 20*time.Second, a2.label()+" to defer to "+a3.label(), func() bool {
				return strings.Contains(a2.out.String(), "is contained in commit "+a3.sha[:7])
			})
			if _, held := w.holder(t.Context()); !held || len(w.applied("")) != 1 {
				t.Fatalf("%s no longer holds the lock: the test needs a longer hold", cur.label())
			}
			if err := a3.cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			signalled := time.Now()
			if c.sig == syscall.SIGTERM {
				waitFor(t, 5*time.Second, a2.label()+" to contend again", func() bool {
					return strings.Contains(a2.out.String(), "the newer waiter is gone")
				})
				if d := time.Since(signalled); d > applylockWaiterLease/2 {
					t.Errorf("%s contended again %s after the newest waiter was cancelled", a2.label(), d)
				}
			}
			waitAll(t, time.Minute, cur, a1, a2)
			<-a3.done
			for _, a := range []*apply{cur, a1, a2} {
				if a.code != 0 {
					t.Errorf("%s: exit %d", a.label(), a.code)
				}
			}
			if a1.superseded() != "true" || a2.superseded() != "false" {
				t.Errorf("superseded: %s %q, %s %q", a1.label(), a1.superseded(), a2.label(), a2.superseded())
			}
			if got, want := w.applied(""), []string{cur.sha, a2.sha}; !slices.Equal(got, want) {
				t.Errorf("applied %v, want %v", short(got), short(want))
			}
			if !strings.Contains(a2.out.String(), "the newer waiter is gone") {
				t.Errorf("%s did not say it waits again", a2.label())
			}
		})
	}
}

// TestCoalesceDivergedWaiterNotSkipped: a waiting commit D that diverged
// from the newest waiter (a side branch) is not skipped: it applies (with
// allow-diverged), and so does the newest; only 1, contained in 2, skips.
func TestCoalesceDivergedWaiterNotSkipped(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "s3")
	shas := w.history(3)
	testenv.Git(t, w.dir, "checkout", "-q", "-b", "side", shas[0])
	d := w.commitOn("side", 1)[0]
	testenv.Git(t, w.dir, "checkout", "-q", "main")
	cur := w.startApply(shas[0], 100, "", coalesceHold, "--allow-diverged")
	w.waitRan(cur)
	ad := w.startApply(d, 200, "", coalesceHold, "--allow-diverged")
	time.Sleep(100 * time.Millisecond)
	a1 := w.startApply(shas[1], 101, "", coalesceHold, "--allow-diverged")
	time.Sleep(100 * time.Millisecond)
	a2 := w.startApply(shas[2], 102, "", coalesceHold, "--allow-diverged")
	all := []*apply{cur, ad, a1, a2}
	waitAll(t, time.Minute, all...)
	defer func() {
		if t.Failed() {
			logAll(t, all...)
		}
	}()
	for _, a := range all {
		if a.code != 0 {
			t.Errorf("%s: exit %d", a.label(), a.code)
		}
	}
	if ad.superseded() != "false" || a2.superseded() != "false" || a1.superseded() != "true" {
		t.Errorf("superseded: D %q, 1 %q, 2 %q", ad.superseded(), a1.superseded(), a2.superseded())
	}
	got := w.applied("")
	if len(got) != 3 || got[0] != cur.sha || !slices.Contains(got, d) || !slices.Contains(got, a2.sha) {
		t.Errorf("applied %v, want %s then %s and %s", short(got), cur.sha[:7], d[:7], a2.sha[:7])
	}
}

// TestCoalesceStacksIndependently: two stacks of one repository (a
// monorepo) coalesce apart. Stack a's newest merge is 3, stack b's is 2:
// b's 2 applies although a newer commit waits on stack a.
func TestCoalesceStacksIndependently(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"s3", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			shas := w.history(4)
			curA := w.startApply(shas[0], 100, "", coalesceHold)
			curB := w.startApply(shas[0], 100, "b", coalesceHold)
			w.waitRan(curA)
			w.waitRan(curB)
			all := []*apply{curA, curB}
			for i := 1; i <= 3; i++ {
				all = append(all, w.startApply(shas[i], 100+i, "", coalesceHold))
				if i < 3 {
					all = append(all, w.startApply(shas[i], 100+i, "b", coalesceHold))
				}
				time.Sleep(100 * time.Millisecond)
			}
			waitAll(t, time.Minute, all...)
			defer func() {
				if t.Failed() {
					logAll(t, all...)
				}
			}()
			for _, a := range all {
				if a.code != 0 {
					t.Errorf("%s of stack %q: exit %d", a.label(), a.stack, a.code)
				}
			}
			if got, want := w.applied(""), []string{shas[0], shas[3]}; !slices.Equal(got, want) {
				t.Errorf("stack a applied %v, want %v", short(got), short(want))
			}
			if got, want := w.applied("b"), []string{shas[0], shas[2]}; !slices.Equal(got, want) {
				t.Errorf("stack b applied %v, want %v", short(got), short(want))
			}
		})
	}
}

func short(shas []string) []string {
	out := make([]string, len(shas))
	for i, s := range shas {
		out[i] = s[:7]
	}
	return out
}
