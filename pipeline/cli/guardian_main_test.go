package cli

import (
	"os"
	"testing"
)

// TestMain lets this test binary serve as the guardian of the commands
// its tests `run` in process: `run` starts os.Executable() as the guardian.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == guardianName {
		os.Exit(runGuardian(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}
