package cli

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/cleanuptest"
)

// A nightly sweep that meets an applied-to PR state and an encrypted one
// it cannot tell about removes the other closed PR's state, keeps those
// two, says so in stdout, the step summary and a warning each, and exits
// 0: a kept state is a report, not a broken job.
func TestSweepRefusalsAreWarningsNotFailures(t *testing.T) {
	t.Parallel()
	a, s, st, _ := sweepWorld(t)
	k5, _ := st.Keys.Render(5)
	cleanuptest.Put(t, s, k5, cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.pr_only"))
	k8, _ := st.Keys.Render(8)
	cleanuptest.Put(t, s, k8, []byte(`{"serial":7,"lineage":"`+cleanuptest.Lineage+`","meta":{"key_provider.pbkdf2.k":"e30="},"encrypted_data":"AAAA","encryption_version":"v0"}`))
	if code := a.run("sweep"); code != 0 {
		t.Fatalf("exit %d, want 0:\nstdout: %s\nstderr: %s", code, a.stdout.String(), a.stderr.String())
	}
	k2, _ := st.Keys.Render(2)
	out, stderr, sum := a.stdout.String(), a.stderr.String(), a.file("github_step_summary")
	for _, want := range []string{"removed " + k2 + " (PR #2) [closed]", "skipped " + k5 + " (PR #5) [closed]", "skipped " + k8 + " (PR #8) [closed]", "2 kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"::warning::sweep kept " + k5 + " (PR #5): applied to", "-target=terraform_data.pr_only", "::warning::sweep kept " + k8 + " (PR #8): cannot tell"} {
		if !strings.Contains(stderr+out, want) {
			t.Errorf("no warning %q:\nstderr: %s\nstdout: %s", want, stderr, out)
		}
	}
	for _, want := range []string{"| #5 (closed) |", "| #8 (closed) |", "cannot tell"} {
		if !strings.Contains(sum, want) {
			t.Errorf("step summary lacks %q:\n%s", want, sum)
		}
	}
	if _, err := s.Bucket.GetObject(t.Context(), k5); err != nil {
		t.Errorf("applied-to state removed: %v", err)
	}
	if _, err := s.Bucket.GetObject(t.Context(), k8); err != nil {
		t.Errorf("encrypted state removed: %v", err)
	}
	if o := a.file("github_output"); !strings.Contains(o, "deleted<<") || !strings.Contains(o, "\n1\n") {
		t.Errorf("GITHUB_OUTPUT (deleted 1):\n%s", o)
	}
}
