package e2e

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
)

// TestPlanPerEvent runs the plan step on each kind of event GitHub sends,
// with seed: production: pushes, schedules and manual runs get the
// production key and write nothing to S3; pull_request(_target) and
// merge_group runs get the PR key, and only its seed is written.
func TestPlanPerEvent(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockS3, true, "app")
	s.applyProduction(true)
	prodObjects := s.objectKeys()
	inputs := map[string]string{"command": "plan", "working-directory": "infra", "seed": "production"}
	const prKey = "app/pr-42/terraform.tfstate"
	queueRef := "refs/heads/gh-readonly-queue/main/pr-42-0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
	for _, tc := range []struct {
		ev       event
		key, pr  string
		wantSeed string
	}{
		{testdataEvent(t, "push", "push.json", "refs/heads/main"), prodKey, "", ""},
		{testdataEvent(t, "schedule", "schedule.json", "refs/heads/main"), prodKey, "", ""},
		{testdataEvent(t, "workflow_dispatch", "workflow_dispatch.json", "refs/heads/main"), prodKey, "", ""},
		{testdataEvent(t, "pull_request", "pull_request_synchronize.json", "refs/pull/42/merge"), prKey, "42", "seeded from production"},
		{testdataEvent(t, "pull_request", "pull_request_reopened.json", "refs/pull/42/merge"), prKey, "42", "the PR state is an up-to-date seed"},
		{testdataEvent(t, "pull_request_target", "pull_request_opened.json", "refs/heads/main"), prKey, "42", "the PR state is an up-to-date seed"},
		{testdataEvent(t, "merge_group", "merge_group.json", queueRef), prKey, "42", "the PR state is an up-to-date seed"},
	} {
		name := tc.ev.name + " " + filepath.Base(tc.ev.payload)
		st := s.mustPrstate(tc.ev, inputs)
		want := map[string]string{"key": tc.key, "workspace": "", "pr-number": tc.pr, "is-pull-request": map[bool]string{true: "true", false: "false"}[tc.pr != ""], "backend-config": "prstate.s3.tfbackend"}
		if !reflect.DeepEqual(st.outputs, want) || st.stdout != tc.key+"\n" {
			t.Errorf("%s: outputs %v stdout %q, want %v", name, st.outputs, st.stdout, want)
		}
		if file := readFile(t, filepath.Join(s.dir, "prstate.s3.tfbackend")); !strings.Contains(file, `key                  = "`+tc.key+`"`) {
			t.Errorf("%s: backend config:\n%s", name, file)
		}
		if tc.wantSeed == "" {
			if strings.Contains(st.stderr, "seed:") {
				t.Errorf("%s: seeded on a production event:\n%s", name, st.stderr)
			}
			if got := s.objectKeys(); !reflect.DeepEqual(got, prodObjects) {
				t.Errorf("%s: objects %v, want %v", name, got, prodObjects)
			}
		} else if !strings.Contains(st.stderr, "seed: "+tc.wantSeed) {
			t.Errorf("%s: stderr lacks %q:\n%s", name, tc.wantSeed, st.stderr)
		}
	}
	// "app/pr-42/..." sorts before "app/terraform..."; the seed left its record beside the PR state.
	want := append([]string{prKey, statekey.SeedRecordKey(prKey)}, prodObjects...)
	if got := s.objectKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("objects %v, want %v", got, want)
	}
}
