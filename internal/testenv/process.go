package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serverProcess is a server the harness started for the test binary.
type serverProcess struct {
	out    *tailBuffer // the last of its stdout and stderr
	exited chan struct{}
	cmd    *exec.Cmd
}

// startServer starts cmd in a process group of its own that is killed
// with the test binary (Pdeathsig: SIGKILL) and waits until ready reports
// true, the process exits or timeout passes. On failure the process is
// stopped and the error carries the tail of its output.
func startServer(cmd *exec.Cmd, ready func() bool, timeout time.Duration) (*serverProcess, error) {
	p := &serverProcess{out: &tailBuffer{max: 16 << 10}, exited: make(chan struct{}), cmd: cmd}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that started the child exits,
		// not the process: pin this goroutine to its thread for the
		// child's whole life, so the Go runtime never retires that thread.
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait()
		}
		close(p.exited)
	}()
	name := filepath.Base(cmd.Path)
	if err := <-started; err != nil {
		return nil, fmt.Errorf("failed to run %s: %w", cmd.Path, err)
	}
	deadline := time.After(timeout)
	for {
		if ready() {
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited: %s", name, p.out.String())
		case <-deadline:
			p.stop()
			return nil, fmt.Errorf("%s did not answer after %s: %s", name, timeout, p.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop kills the process group and reaps the process.
func (p *serverProcess) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("failed to find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	gopathOnce sync.Once
	gopathBin  string
)

// goBin returns $(go env GOPATH)/bin, where `go install` puts binaries,
// or "" when go cannot say.
func goBin() string {
	gopathOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			return
		}
		// GOPATH may be a list; go install uses the first entry.
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), string(os.PathListSeparator))
		if first != "" {
			gopathBin = filepath.Join(first, "bin")
		}
	})
	return gopathBin
}

// GoTool returns the path of the executable name found on PATH or in
// $(go env GOPATH)/bin (where .ci/run installs the tools it builds with
// go), or ends the test through Require.
func GoTool(t testing.TB, name string) string {
	t.Helper()
	if path, err := lookGoTool(name); err == nil {
		return path
	}
	Require(t, fmt.Sprintf("%s not found on PATH or in $(go env GOPATH)/bin", name))
	return ""
}

func lookGoTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if dir := goBin(); dir != "" {
		if p, err2 := exec.LookPath(filepath.Join(dir, name)); err2 == nil {
			return p, nil
		}
	}
	return "", err
}
