package lockproof

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A timeline is a file the commands of several holders append to, one
// "<who> <unix nanoseconds>" line every 50 ms while they run: it shows
// whether two commands ever ran at once.
type timeline struct{ path string }

func newTimeline(t *testing.T) *timeline {
	return &timeline{path: filepath.Join(t.TempDir(), "timeline")}
}

// forever is a command that writes who's lines until it is stopped.
func (tl *timeline) forever(who string) []string {
	return []string{"sh", "-c", `while :; do echo "` + who + ` $(date +%s%N)" >> "` + tl.path + `"; sleep 0.05; done`}
}

// forLines is a command that writes n of who's lines and ends.
func (tl *timeline) forLines(who string, n int) []string {
	return []string{"sh", "-c", `i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do echo "` + who + ` $(date +%s%N)" >> "` + tl.path + `"; sleep 0.05; i=$((i+1)); done`}
}

// span is when who's lines began and ended, and how many there were.
type span struct {
	first, last time.Time
	lines       int
}

func (tl *timeline) spans(t *testing.T) map[string]span {
	t.Helper()
	b, err := os.ReadFile(tl.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	out := map[string]span{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		who, ns, ok := strings.Cut(line, " ")
		n, err := strconv.ParseInt(ns, 10, 64)
		if !ok || err != nil {
			continue // a line cut short by SIGKILL
		}
		at := time.Unix(0, n)
		s := out[who]
		if s.first.IsZero() || at.Before(s.first) {
			s.first = at
		}
		if at.After(s.last) {
			s.last = at
		}
		s.lines++
		out[who] = s
	}
	return out
}

// linesAfter counts who's lines written after at.
func (tl *timeline) linesAfter(t *testing.T, who string, at time.Time) int {
	t.Helper()
	b, _ := os.ReadFile(tl.path)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		w, ns, _ := strings.Cut(line, " ")
		v, err := strconv.ParseInt(ns, 10, 64)
		if w == who && err == nil && time.Unix(0, v).After(at) {
			n++
		}
	}
	return n
}

// proc is a prstate process started in the background.
type proc struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	done    chan struct{}
	err     error
	started time.Time
	ended   time.Time
}

func (w *world) start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: w.prstate(context.Background(), args...), done: make(chan struct{})}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.stderr
	// A group of its own: signals from the test reach prstate alone.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A command left running (by a failed test) keeps stderr open.
	p.cmd.WaitDelay = 5 * time.Second
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.ended = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		for _, kid := range children(t, p.cmd.Process.Pid) {
			_ = syscall.Kill(-kid, syscall.SIGKILL) // the command's group
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

// wait waits up to d for the process and returns its exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("prstate %v still running after %s\n%s", p.cmd.Args[1:], d, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("prstate: %v", p.err)
	}
	return 0
}

// holds waits until the lock is held by someone other than notID and
// returns the holder's ID.
func (w *world) holds(t *testing.T, d time.Duration, notID string) string {
	t.Helper()
	var id string
	waitFor(t, d, "a new holder", func() bool {
		r, ok := w.holder(t.Context())
		id = r.ID
		return ok && r.ID != notID
	})
	return id
}

// children lists the PIDs of pid's child processes (Linux /proc).
func children(t *testing.T, pid int) []int {
	t.Helper()
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(field); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// gone tells whether pid has exited (a zombie has).
func gone(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}
