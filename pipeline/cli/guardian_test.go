package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestRunWaitsForEveryDescendant: the command puts a process in a
// session of its own (out of its process group) and exits at once; the
// lock is released only after that process ended.
func TestRunWaitsForEveryDescendant(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("child subreapers are Linux's")
	}
	if testing.Short() {
		t.Skip("runs processes for a second")
	}
	t.Parallel()
	tb := memstore.NewTable("locks")
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state"), Table: tb})
	done := filepath.Join(t.TempDir(), "done")
	start := time.Now()
	code := a.run(args("run", "--dynamodb-table", "locks", "--", "sh", "-c", `setsid sh -c 'sleep 1; echo > `+done+`' </dev/null >/dev/null 2>&1 &`)...)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if _, err := os.Stat(done); err != nil || took < time.Second {
		t.Fatalf("run returned after %s, before the setsid'd process ended (%v)\n%s", took, err, a.stderr.String())
	}
	if items, _ := tb.ScanItems(t.Context(), ""); len(items) != 0 {
		t.Fatalf("lock left behind: %v", items)
	}
	if !strings.Contains(a.stderr.String(), "released the apply lock") {
		t.Fatalf("stderr: %s", a.stderr.String())
	}
}

// BenchmarkDescendants is the cost of one scan of the process tree by
// parent PIDs in /proc, which the guardian does every 50 ms while it
// stops a tree (never while the command simply runs).
//
//	go test -run '^$' -bench Descendants ./pipeline/cli/
func BenchmarkDescendants(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("/proc is Linux's")
	}
	for b.Loop() {
		descendants(1)
	}
	entries, _ := os.ReadDir("/proc")
	b.ReportMetric(float64(len(entries)), "proc-entries")
}
