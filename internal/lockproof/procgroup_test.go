package lockproof

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestGrandchildOutlivingTermDoesNotOverlap: `prstate run -- sh -c` whose
// shell dies of SIGTERM while a grandchild that ignores TERM goes on: the
// lock is released only once the grandchild is done, so the next
// holder's command never overlaps it.
func TestGrandchildOutlivingTermDoesNotOverlap(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			tl := newTimeline(t)
			up := filepath.Join(t.TempDir(), "up")
			script := `( trap "" TERM; echo up > "` + up + `"; sleep 2; echo "A $(date +%s%N)" >> "` + tl.path + `" ) & wait`
			holder := w.start(t, nil, "run", "--", "sh", "-c", script)
			oldID := w.holds(t, 20*time.Second, "")
			waitFor(t, 20*time.Second, "the subshell", func() bool { _, err := os.Stat(up); return err == nil })
			if err := holder.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			waiter := w.start(t, nil, "run", "--lock-timeout", "1m", "--", tl.forLines("B", 2)[0], tl.forLines("B", 2)[1], tl.forLines("B", 2)[2])
			code := holder.wait(t, 30*time.Second)
			if wcode := waiter.wait(t, 30*time.Second); wcode != 0 {
				t.Fatalf("waiter: exit %d\n%s", wcode, waiter.stderr.String())
			}
			a, b := tl.spans(t)["A"], tl.spans(t)["B"]
			t.Logf("%s: holder exited %d %s after SIGTERM; grandchild done %s after it, next command began %s after it", backend, code, holder.ended.Sub(sent).Round(time.Millisecond), a.last.Sub(sent).Round(time.Millisecond), b.first.Sub(sent).Round(time.Millisecond))
			if a.lines != 1 {
				t.Fatalf("the grandchild did not finish (%d lines)\n%s", a.lines, holder.stderr.String())
			}
			if !b.first.After(a.last) {
				t.Errorf("overlap: the next holder began %s before the grandchild of %s was done", a.last.Sub(b.first), oldID)
			}
			// The shell got SIGINT first (SIGTERM to prstate reaches the
			// tree as SIGINT): it died of it.
			if code != 128+int(syscall.SIGINT) {
				t.Errorf("holder exit %d, want %d\n%s", code, 128+int(syscall.SIGINT), holder.stderr.String())
			}
		})
	}
}
