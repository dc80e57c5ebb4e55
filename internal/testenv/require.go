package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Require reports that what the test needs is unavailable: it fails the
// test when the environment variable CI is "true" and skips it otherwise.
// It is the only place in the repository that skips a test.
func Require(t testing.TB, what string) {
	t.Helper()
	if ciRequired() {
		t.Fatalf("%s (required when CI=true)", what)
	}
	t.Skipf("%s; skipping (with CI=true this fails instead)", what)
}

// SkipShort skips the test under `go test -short` (make test-short): what
// needs a server (moto, MinIO), terraform or tofu, or a built binary runs
// only in the full suite (make test), which CI runs.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: needs %s (make test runs it)", what)
	}
}

// ciRequired reports whether what a test needs must be there (CI=true).
func ciRequired() bool { return os.Getenv("CI") == "true" }

// Tool returns the path of the executable name found on PATH, or ends the
// test through Require.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Require(t, fmt.Sprintf("%s not found on PATH", name))
	}
	return path
}

// Terraform returns the path of the terraform binary (see Tool).
func Terraform(t testing.TB) string {
	t.Helper()
	SkipShort(t, "terraform")
	return Tool(t, "terraform")
}
