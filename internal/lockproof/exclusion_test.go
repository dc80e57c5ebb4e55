package lockproof

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// criticalSection notes an overlap and fails with 99 when another holder
// is inside (mkdir is atomic), and counts its entries.
const criticalSection = `mkdir "$CS_DIR/cs" || { echo x >> "$CS_DIR/overlaps"; exit 99; }; echo x >> "$CS_DIR/entries"; sleep 0.01; rmdir "$CS_DIR/cs"`

// contend runs procs loops of rounds `prstate run` processes each around
// the critical section and returns the failures.
func contend(t *testing.T, w *world, procs, rounds int, extra ...string) []string {
	t.Helper()
	csDir := t.TempDir()
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				args := append(append([]string{"run", "--lock-timeout", "5m"}, extra...), "--", "sh", "-c", criticalSection)
				cmd := w.prstate(context.Background(), args...)
				cmd.Env = append(cmd.Env, "CS_DIR="+csDir)
				var errb bytes.Buffer
				cmd.Stderr = &errb
				if err := cmd.Run(); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("proc %d round %d: %v: %s", p, r, err, lastLines(errb.String(), 5)))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(filepath.Join(csDir, "entries"))
	if n := strings.Count(string(b), "x"); n != procs*rounds {
		failures = append(failures, fmt.Sprintf("%d critical sections entered, want %d", n, procs*rounds))
	}
	o, _ := os.ReadFile(filepath.Join(csDir, "overlaps"))
	if n := strings.Count(string(o), "x"); n > 0 {
		failures = append(failures, fmt.Sprintf("%d critical sections overlapped another", n))
	}
	return failures
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// TestMutualExclusion: 16 concurrent prstate processes each take and
// release the lock 25 times; no critical section ever overlaps another.
func TestMutualExclusion(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			w := newWorldVersioned(t, backend, false)
			// 15 waiters: one of them polls every ~40 ms on average, and
			// moto (one request at a time) is not swamped by reads.
			w.env = append(w.env, "PRSTATE_LOCK_POLL=600ms")
			start := time.Now()
			failures := contend(t, w, 16, 25)
			for _, f := range failures {
				t.Error(f)
			}
			if _, held := w.holder(t.Context()); held {
				t.Error("lock left behind")
			}
			took := time.Since(start)
			t.Logf("%s: 16 processes x 25 rounds in %s, %d failures, %d requests to %s (%.0f/s)", backend, took.Round(time.Millisecond), len(failures), w.proxy.Counts().Requests, w.srv.Name(), float64(w.proxy.Counts().Requests)/took.Seconds())
		})
	}
}
