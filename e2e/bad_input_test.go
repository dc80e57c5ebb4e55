package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestBadInput: bad input to the action fails with exit 2 and one error
// line, before anything is written: no backend-config file, no outputs,
// no exported environment, no summary, no object or item (even with seed:
// production, which would otherwise write the PR state).
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockDynamoDB, false, "app")
	s.applyProduction(false)
	keys, items := s.objectKeys(), s.itemIDs()
	before := s.snapshot(prodKey)
	good := map[string]string{"command": "plan", "working-directory": "infra", "bucket": s.bucket, "dynamodb-table": s.table, "seed": "production"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for gk, gv := range good {
			m[gk] = gv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name   string
		ev     event
		inputs map[string]string
		want   string // in the error
	}{
		{"pr number 0", prEvent(t, "opened", 0), good, "invalid pull request number 0"},
		{"negative pr number", prEvent(t, "synchronize", -3), good, "invalid pull request number -3"},
		{"pr number not a number", testdataEvent(t, "pull_request", "pull_request_number_not_a_number.json", "refs/pull/42/merge"), good, "cannot parse the event payload"},
		{"key with ..", prEvent(t, "opened", 42), with("key", "app/../terraform.tfstate"), `must not contain ".." segments`},
		{"unknown event", testdataEvent(t, "issue_comment", "issue_comment.json", "refs/heads/main"), good, `unsupported event "issue_comment"`},
		{"unknown event, command auto", testdataEvent(t, "issue_comment", "issue_comment.json", "refs/heads/main"), with("command", "auto"), `unsupported event "issue_comment"`},
		{"missing bucket", prEvent(t, "opened", 42), with("bucket", ""), "no bucket"},
		{"bad seed", prEvent(t, "opened", 42), with("seed", "yes"), `invalid seed "yes"`},
		{"bad isolation", prEvent(t, "opened", 42), with("isolation", "workspaces"), `invalid isolation "workspaces"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.prstate(tc.ev, tc.inputs)
			if st.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", st.code, st.stderr)
			}
			// Workflow commands (::error:: for the annotation, ::add-mask::)
			// are the runner's; what the log shows as text is one line.
			var lines []string
			var annotated bool
			for _, l := range strings.Split(strings.TrimRight(st.stderr, "\n"), "\n") {
				if strings.HasPrefix(l, "::error::") {
					annotated = strings.Contains(l, tc.want)
				}
				if !strings.HasPrefix(l, "::") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "prstate: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr lines %q, want one line with %q", lines, tc.want)
			}
			if !annotated {
				t.Errorf("no ::error:: annotation with %q in stderr:\n%s", tc.want, st.stderr)
			}
			if st.stdout != "" || st.rawOutput != "" || st.rawEnv != "" || st.summary != "" {
				t.Errorf("wrote stdout %q GITHUB_OUTPUT %q GITHUB_ENV %q summary %q", st.stdout, st.rawOutput, st.rawEnv, st.summary)
			}
			for _, dir := range []string{s.root, s.dir} {
				if _, err := os.Stat(filepath.Join(dir, "prstate.s3.tfbackend")); err == nil {
					t.Errorf("wrote a backend config in %s", dir)
				}
			}
			if got := s.objectKeys(); !reflect.DeepEqual(got, keys) {
				t.Errorf("objects %v, want %v", got, keys)
			}
			if got := s.itemIDs(); !reflect.DeepEqual(got, items) {
				t.Errorf("items %v, want %v", got, items)
			}
			if after := s.snapshot(prodKey); !reflect.DeepEqual(before, after) {
				t.Errorf("production changed\nbefore: %s\nafter: %s", before, after)
			}
		})
	}
}
