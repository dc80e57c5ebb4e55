package cli

import (
	"os"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestMain lets this test binary serve as the guardian of the commands
// its tests `run` in process: `run` starts os.Executable() as the guardian.
// Otherwise it runs the tests, then stops the servers and removes the
// binary they started (testenv.Main).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == guardianName {
		os.Exit(runGuardian(os.Args[2:], os.Stderr))
	}
	testenv.Main(m)
}
