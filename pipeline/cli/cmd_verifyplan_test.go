package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// showJSON is a minimal `terraform show -json` with one update of
// terraform_data.a from before to after.
func showJSON(t *testing.T, before, after string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"format_version": "1.2", "terraform_version": "1.11.0",
		"resource_changes": []any{map[string]any{"address": "terraform_data.a", "mode": "managed", "change": map[string]any{
			"actions": []string{"update"}, "before": map[string]any{"input": before}, "after": map[string]any{"input": after}, "after_unknown": map[string]any{},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (a *testApp) write(name, body string) {
	a.t.Helper()
	if err := os.WriteFile(filepath.Join(a.dir, name), []byte(body), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

// Outside Actions, plan --plan-json records at once; verify-plan --pr
// compares with the PR's latest record: the same plan matches, another
// before value (an undo) is a difference, exit 1 with on-plan-change fail.
func TestPlanJSONRecordAndVerifyOutsideCI(t *testing.T) {
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	head := strings.Repeat("c", 40)
	a.env["GITHUB_SHA"] = head
	stack := []string{"--bucket", "acme-state", "--key", "app/terraform.tfstate"}
	a.write("plan.json", showJSON(t, "v1", "v2"))
	if code := a.run(append([]string{"plan", "--pr", "42", "--plan-json", "plan.json"}, stack...)...); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, a.stderr.String())
	}
	for _, name := range []string{head, "latest"} {
		obj, err := b.GetObject(context.Background(), statekey.ReviewedPlanKey("app/pr-42/terraform.tfstate", name))
		if err != nil {
			t.Fatalf("record %s: %v", name, err)
		}
		if strings.Contains(string(obj.Body), `"v1"`) || strings.Contains(string(obj.Body), `"v2"`) {
			t.Fatalf("record holds plan values in clear: %s", obj.Body)
		}
	}
	delete(a.env, "GITHUB_SHA")
	a.write("apply.json", showJSON(t, "v1", "v2"))
	if code := a.run(append([]string{"verify-plan", "--pr", "42", "--plan-json", "apply.json", "--on-plan-change", "fail"}, stack...)...); code != 0 || a.stdout.String() != "applies exactly what was reviewed in #42\n" {
		t.Fatalf("verify-plan, same plan: exit %d, stdout %q\n%s", code, a.stdout.String(), a.stderr.String())
	}
	a.write("apply.json", showJSON(t, "v3", "v2"))
	code := a.run(append([]string{"verify-plan", "--pr", "42", "--plan-json", "apply.json", "--on-plan-change", "fail"}, stack...)...)
	if code != 1 || !strings.Contains(a.stderr.String(), "terraform_data.a: different values") || !strings.Contains(a.stderr.String(), "input (before)") {
		t.Fatalf("verify-plan, undo: exit %d\n%s", code, a.stderr.String())
	}
	if code := a.run(append([]string{"verify-plan", "--pr", "42", "--plan-json", "apply.json"}, stack...)...); code != 0 || !strings.Contains(a.stderr.String(), "warning: verify-plan: the apply-time plan is not what was reviewed") {
		t.Fatalf("verify-plan, warn: exit %d\n%s", code, a.stderr.String())
	}
}

// Bad input is one line, exit 2, and nothing is written.
func TestPlanJSONBadInput(t *testing.T) {
	b := memstore.NewBucket("acme-state")
	a := newTestApp(t, Store{Bucket: b})
	a.env["GITHUB_SHA"] = strings.Repeat("c", 40)
	a.write("notplan.json", `{"resources": []}`)
	a.write("plan.json", showJSON(t, "v1", "v2"))
	stack := []string{"--bucket", "acme-state", "--key", "app/terraform.tfstate"}
	for _, args := range [][]string{
		{"plan", "--pr", "42", "--plan-json", "notplan.json"},
		{"plan", "--pr", "42", "--plan-json", "missing.json"},
		{"verify-plan", "--pr", "42"},
		{"verify-plan", "--pr", "4x", "--plan-json", "plan.json"},
		{"verify-plan", "--pr", "42", "--plan-json", "plan.json", "--on-plan-change", "stop"},
		{"verify-plan", "--plan-json", "plan.json"}, // no PR, no GitHub
		{"verify-plan", "--pr", "42", "--plan-json", "notplan.json"},
	} {
		code := a.run(append(args, stack...)...)
		if code != 2 || strings.Count(strings.TrimSpace(a.stderr.String()), "\n") != 0 {
			t.Errorf("%v: exit %d, want 2 and one line:\n%s", args, code, a.stderr.String())
		}
	}
	if objs, err := b.ListObjects(context.Background(), ""); err != nil || len(objs) != 0 {
		t.Errorf("bad input wrote %v (%v)", objs, err)
	}
	if _, err := os.Stat(filepath.Join(a.dir, defaultBackendFile)); err == nil {
		t.Error("bad plan-json left a backend file")
	}
}
