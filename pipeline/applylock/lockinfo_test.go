package applylock

import (
	"regexp"
	"testing"
	"time"
)

// The encoding Terraform 1.11 writes (captured from a real .tflock object).
func TestLockInfoEncodingMatchesTerraform(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 23, 1, 2, 3, 456789012, time.UTC)
	l := LockInfo{ID: "4a1c6c9e-7f0e-2b1d-8c52-3f4f0a0b9d11", Operation: "OperationTypeApply", Who: "runner@host", Version: "1.11.4", Created: created, Path: "acme/app/terraform.tfstate"}
	want := `{"ID":"4a1c6c9e-7f0e-2b1d-8c52-3f4f0a0b9d11","Operation":"OperationTypeApply","Info":"","Who":"runner@host","Version":"1.11.4","Created":"2026-11-23T01:02:03.456789012Z","Path":"acme/app/terraform.tfstate"}`
	if got := string(l.Marshal()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	back, err := ParseLockInfo([]byte(want))
	if err != nil || back != l {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestNewLockID(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewLockID(), NewLockID()
	if !re.MatchString(a) || a == b {
		t.Fatalf("ids %q %q", a, b)
	}
}
