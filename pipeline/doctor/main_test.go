package doctor_test

import (
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
