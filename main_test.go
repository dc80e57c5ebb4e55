package main

import (
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestMain removes the binary testenv.Binary built.
func TestMain(m *testing.M) { testenv.Main(m) }
