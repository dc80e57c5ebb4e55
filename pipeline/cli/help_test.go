package cli

import (
	"strings"
	"testing"
)

// TestHelpListsOnlyTheStackFlagsACommandReads: isolation and use-lockfile
// are read only by commands that build PR keys (and, for use-lockfile, open
// the bucket too); status reads neither, so its --help does not offer them
// and passing one is an unknown flag, not a setting silently ignored.
func TestHelpListsOnlyTheStackFlagsACommandReads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		command string
		want    map[string]bool // flag -> listed
	}{
		{"status", map[string]bool{"-isolation": false, "-use-lockfile": false, "-bucket": true, "-key-template": true, "-pr": false}},
		{"key", map[string]bool{"-isolation": true, "-use-lockfile": false, "-key-template": true, "-pr": true}},
		{"lock", map[string]bool{"-isolation": true, "-use-lockfile": true, "-key-template": true, "-pr": true}},
		{"cleanup", map[string]bool{"-pr": true}},
		{"sweep", map[string]bool{"-pr": false}},
	} {
		a := newTestApp(t, Store{})
		if code := a.run(tc.command, "--help"); code != 0 {
			t.Fatalf("%s --help: exit %d: %s", tc.command, code, a.stderr.String())
		}
		help := a.stdout.String() + a.stderr.String()
		for flag, listed := range tc.want {
			if got := strings.Contains(help, "  "+flag+" ") || strings.Contains(help, "  "+flag+"\n"); got != listed {
				t.Errorf("%s --help lists %s: %v, want %v\n%s", tc.command, flag, got, listed, help)
			}
		}
	}
	a := newTestApp(t, Store{})
	if code := a.run("status", "--isolation", "workspace", "--bucket", "acme-state"); code != 2 || !strings.Contains(a.stderr.String(), "isolation") {
		t.Errorf("status --isolation: exit %d, want 2 naming the flag: %s", code, a.stderr.String())
	}
	a = newTestApp(t, Store{})
	if code := a.run("status", "--pr", "5", "--bucket", "acme-state"); code != 2 || !strings.Contains(a.stderr.String(), "-pr") {
		t.Errorf("status --pr: exit %d, want 2 naming the flag: %s", code, a.stderr.String())
	}
}
