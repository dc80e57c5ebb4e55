package cli

import (
	"strings"
	"testing"
	"time"
)

func TestDurationWords(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		14 * 24 * time.Hour: "14d", 24 * time.Hour: "1d", 36 * time.Hour: "36h", 6 * time.Hour: "6h",
		90 * time.Minute: "1h30m", 10 * time.Minute: "10m", 90 * time.Second: "1m30s", 500 * time.Millisecond: "500ms",
	} {
		if got := durationWords(d); got != want {
			t.Errorf("durationWords(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestSweepEchoesOlderThanAsWritten: sweep --older-than 14d says "14d"
// in its log and summary, not 336h0m0s.
func TestSweepEchoesOlderThanAsWritten(t *testing.T) {
	t.Parallel()
	store, _ := memStore()
	a := newTestApp(t, store)
	a.actions("schedule", "schedule.json")
	if code := a.run("sweep", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--older-than", "14d"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	out := a.stderr.String() + a.file("github_step_summary")
	if strings.Contains(out, "336h") || !strings.Contains(out, "not written for 14d") {
		t.Fatalf("output:\n%s", out)
	}
}
