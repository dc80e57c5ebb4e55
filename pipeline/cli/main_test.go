package cli

import (
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestMain stops the servers and removes the binary the tests started.
func TestMain(m *testing.M) { testenv.Main(m) }
