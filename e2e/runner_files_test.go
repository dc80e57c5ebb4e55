package e2e

import (
	"strings"
	"testing"
)

// TestPlanOnRunnerWithoutSomeFiles: runners that lack a file command
// (GitHub Enterprise Server before job summaries, some compatible runners)
// leave its variable unset. The plan step still does its job, says once
// per missing file what it skipped, and never crashes.
func TestPlanOnRunnerWithoutSomeFiles(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockS3, true, "app")
	s.applyProduction(true)
	const prKey = "app/pr-42/terraform.tfstate"
	for _, missing := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_STATE", "GITHUB_OUTPUT"} {
		s.unset = map[string]bool{missing: true}
		st := s.prstate(prEvent(t, "opened", 42), map[string]string{"working-directory": "infra", "seed": "production", "export-env": "true"})
		if st.code != 0 || st.stdout != prKey+"\n" {
			t.Errorf("without %s: exit %d stdout %q\nstderr: %s", missing, st.code, st.stdout, st.stderr)
			continue
		}
		if n := strings.Count(st.stderr, "::warning::"+missing+" is not set"); n != 1 && missing != "GITHUB_STATE" {
			t.Errorf("without %s: %d warnings about it, want 1:\n%s", missing, n, st.stderr)
		}
		if strings.Contains(st.stderr, "panic") || strings.Contains(st.stderr, "goroutine") {
			t.Errorf("without %s: crashed:\n%s", missing, st.stderr)
		}
		if missing != "GITHUB_OUTPUT" && st.outputs["key"] != prKey {
			t.Errorf("without %s: outputs %v", missing, st.outputs)
		}
	}
	if _, ok := s.getObject(prKey); !ok {
		t.Error("no seed written")
	}
}
