package lockproof

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

// stackSections: each job's command makes one directory per stack it
// holds (mkdir is atomic: a second holder of a stack fails with 99),
// counts its entry, and removes them.
const stackSections = `for s in $STACKS; do mkdir "$CS_DIR/$s" || exit 99; done; echo x >> "$CS_DIR/entries"; sleep 0.05; for s in $STACKS; do rmdir "$CS_DIR/$s"; done`

// TestOverlappingStackSetsNeverDeadlockOrOverlap: three jobs (real prstate
// processes) repeatedly run under the apply locks of overlapping stack
// sets, each naming its stacks in a cyclic order (a,b / b,c / c,a), the
// order that deadlocks when locks are taken as named. prstate takes them
// sorted by bucket/key, so every run ends (a deadlock would end in exit 3
// at lock-timeout) and no two runs ever hold a stack at once.
func TestOverlappingStackSetsNeverDeadlockOrOverlap(t *testing.T) {
	testenv.SkipShort(t, "real prstate processes on moto")
	for _, backend := range []string{"s3", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			w := newWorldVersioned(t, backend, false)
			for _, s := range []string{"a", "b", "c"} {
				dir := filepath.Join(w.dir, "stacks", s)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				block := fmt.Sprintf("terraform {\n  backend \"s3\" {\n    bucket = %q\n    key    = \"stacks/%s/terraform.tfstate\"\n    region = \"us-east-1\"\n  }\n}\n", w.bucket, s)
				if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(block), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The stacks' backend blocks name bucket and key: no PRSTATE_KEY.
			var env []string
			for _, kv := range w.environ() {
				if !strings.HasPrefix(kv, "PRSTATE_KEY=") {
					env = append(env, kv)
				}
			}
			jobs := []struct{ dirs, stacks string }{
				{"stacks/a,stacks/b", "a b"},
				{"stacks/b,stacks/c", "b c"},
				{"stacks/c,stacks/a", "c a"},
			}
			const rounds = 6
			csDir := t.TempDir()
			var (
				mu       sync.Mutex
				failures []string
				overlaps int
				wg       sync.WaitGroup
			)
			start := time.Now()
			for j, job := range jobs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						cmd := w.prstate(context.Background(), "run", "--working-directory", job.dirs, "--lock-timeout", "90s", "--", "sh", "-c", stackSections)
						cmd.Env = append(slices.Clone(env), "CS_DIR="+csDir, "STACKS="+job.stacks)
						var errb bytes.Buffer
						cmd.Stderr = &errb
						if err := cmd.Run(); err != nil {
							mu.Lock()
							if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 99 {
								overlaps++
							}
							failures = append(failures, fmt.Sprintf("job %d round %d: %v: %s", j, r, err, lastLines(errb.String(), 5)))
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			took := time.Since(start)
			b, _ := os.ReadFile(filepath.Join(csDir, "entries"))
			entered := strings.Count(string(b), "x")
			for _, f := range failures {
				t.Error(f)
			}
			if entered != len(jobs)*rounds {
				t.Errorf("%d runs entered their section, want %d", entered, len(jobs)*rounds)
			}
			t.Logf("%s: 3 jobs x %d rounds over overlapping stack sets in %s: %d runs, %d overlaps, %d failures (a deadlock would be exit 3 at 90s)", backend, rounds, took.Round(time.Millisecond), entered, overlaps, len(failures))
		})
	}
}
