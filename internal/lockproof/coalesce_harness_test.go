package lockproof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

// history makes a git repository in the world's directory whose main
// branch is n commits in a row; it returns their SHAs, oldest first.
// Every prstate process of the world compares commits in it (git
// merge-base: no GitHub token).
func (w *world) history(n int) []string {
	w.t.Helper()
	testenv.Tool(w.t, "git")
	testenv.Git(w.t, w.dir, "init", "-q", "-b", "main")
	return w.commitOn("", n)
}

// commitOn adds n commits to branch (checked out; "" the current one),
// returning their SHAs.
func (w *world) commitOn(branch string, n int) []string {
	w.t.Helper()
	if branch != "" {
		testenv.Git(w.t, w.dir, "checkout", "-q", branch)
	}
	var shas []string
	for i := range n {
		msg := fmt.Sprintf("%s %d %d", branch, len(shas), i)
		if err := os.WriteFile(filepath.Join(w.dir, "history.txt"), []byte(msg+"\n"), 0o644); err != nil {
			w.t.Fatal(err)
		}
		testenv.Git(w.t, w.dir, "add", "history.txt")
		testenv.Git(w.t, w.dir, "commit", "-q", "-m", msg)
		shas = append(shas, testenv.Git(w.t, w.dir, "rev-parse", "HEAD"))
	}
	return shas
}

// apply is one merge's apply job: `prstate run` as GitHub Actions run
// `run` of commit sha, pushed to main, whose command notes that it ran
// in the world's applied-<stack> file and holds the lock for hold.
type apply struct {
	sha   string
	run   int
	stack string // "" for the world's key
	cmd   *exec.Cmd
	dir   string // its GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
	out   syncBuffer
	code  int
	done  chan struct{}
}

func (a *apply) label() string { return fmt.Sprintf("run %d (%s)", a.run, a.sha[:7]) }

// output is the GitHub output superseded (true, false, or "" when unset).
func (a *apply) superseded() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "github_output"))
	s := string(b)
	i := strings.Index(s, "superseded<<")
	if i < 0 {
		return ""
	}
	lines := strings.SplitN(s[i:], "\n", 3)
	if len(lines) < 2 {
		return ""
	}
	return lines[1]
}

func (a *apply) summary() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "github_step_summary"))
	return string(b)
}

// runURL is the run's URL as GitHub names it.
func runURL(run int) string { return fmt.Sprintf("https://github.com/acme/infra/actions/runs/%d", run) }

// startApply starts an apply job; extra are more flags for prstate run.
func (w *world) startApply(sha string, run int, stack string, hold time.Duration, extra ...string) *apply {
	w.t.Helper()
	a := &apply{sha: sha, run: run, stack: stack, dir: w.t.TempDir(), done: make(chan struct{})}
	payload := filepath.Join(a.dir, "push.json")
	if err := os.WriteFile(payload, []byte(`{"ref":"refs/heads/main","after":"`+sha+`","repository":{"full_name":"acme/infra","default_branch":"main"}}`), 0o644); err != nil {
		w.t.Fatal(err)
	}
	env := []string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=push", "GITHUB_EVENT_PATH=" + payload,
		"GITHUB_REPOSITORY=acme/infra", fmt.Sprintf("GITHUB_RUN_ID=%d", run), "GITHUB_RUN_ATTEMPT=1", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_SHA=" + sha, "GITHUB_REF=refs/heads/main"}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(a.dir, strings.ToLower(f))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			w.t.Fatal(err)
		}
		env = append(env, f+"="+p)
	}
	if stack != "" {
		env = append(env, "PRSTATE_KEY="+stack+"/terraform.tfstate")
	}
	note := fmt.Sprintf("echo %s >> %s; sleep %g", sha, filepath.Join(w.dir, "applied-"+stack+".txt"), hold.Seconds())
	args := append([]string{"run", "--lock-timeout", "2m"}, extra...)
	args = append(args, "--", "sh", "-c", note)
	a.cmd = w.prstate(context.Background(), args...)
	a.cmd.Env = append(a.cmd.Env, env...)
	a.cmd.Stdout, a.cmd.Stderr = &a.out, &a.out
	if err := a.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() {
		defer close(a.done)
		err := a.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			a.code = ee.ExitCode()
		case err != nil:
			a.code = -1
		}
	}()
	w.t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		<-a.done
	})
	return a
}

// wait waits for every apply to end (within d) and returns when the last
// one did.
func waitAll(t testing.TB, d time.Duration, as ...*apply) time.Time {
	t.Helper()
	timeout := time.After(d)
	for _, a := range as {
		select {
		case <-a.done:
		case <-timeout:
			t.Fatalf("%s still running after %s:\n%s", a.label(), d, a.out.String())
		}
	}
	return time.Now()
}

// applied lists the commits whose command ran on stack, in order.
func (w *world) applied(stack string) []string {
	b, err := os.ReadFile(filepath.Join(w.dir, "applied-"+stack+".txt"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// waitRan waits until a's command started (it holds the lock).
func (w *world) waitRan(a *apply) {
	w.t.Helper()
	waitFor(w.t, 30*time.Second, a.label()+" to hold the lock", func() bool {
		for _, sha := range w.applied(a.stack) {
			if sha == a.sha {
				return true
			}
		}
		return false
	})
}

// syncBuffer is a bytes.Buffer the test may read while the process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var outMu sync.Mutex

// logAll writes every apply's output to the test log.
func logAll(t testing.TB, as ...*apply) {
	outMu.Lock()
	defer outMu.Unlock()
	for _, a := range as {
		t.Logf("%s exit %d superseded=%q:\n%s", a.label(), a.code, a.superseded(), a.out.String())
	}
}
