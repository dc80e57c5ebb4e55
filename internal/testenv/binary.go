package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// Binary builds the prstate binary once per test binary, static as in the
// Docker image (CGO_ENABLED=0), and returns its path. Tests drive it as a
// separate process, the way CI and the Actions runner do.
//
// PRSTATE_TEST_BINARY names a prebuilt binary to drive instead (say, one
// built from an earlier commit, to see a proof fail there).
func Binary(t testing.TB) string {
	t.Helper()
	SkipShort(t, "the built prstate binary")
	if p := os.Getenv("PRSTATE_TEST_BINARY"); p != "" {
		return p
	}
	binOnce.Do(func() {
		var root []byte
		root, binErr = exec.Command("go", "env", "GOMOD").Output()
		if binErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "prstate-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "prstate")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binPath, ".")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		binOut, binErr = cmd.CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("failed to build prstate: %v\n%s", binErr, binOut)
	}
	return binPath
}

// removeBinary deletes the binary Binary built (about 18 MB per test
// binary run, which otherwise piles up in the temp directory).
func removeBinary() {
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
}
