package statekey

import (
	"errors"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

func TestKeysRender(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prod, template string
		pr             int
		want           string
	}{
		{"app/terraform.tfstate", "", 42, "app/pr-42/terraform.tfstate"},
		{"terraform.tfstate", "", 42, "pr-42/terraform.tfstate"},
		{"a/b/c/state.json", "", 7, "a/b/c/pr-7/state.json"},
		{"app/terraform.tfstate", "{dir}/previews/{pr}/{file}", 3, "app/previews/3/terraform.tfstate"},
		{"app/terraform.tfstate", "{dir}/p{pr}/{file}", 9, "app/p9/terraform.tfstate"},
		{"terraform.tfstate", "pr-{pr}-{file}", 5, "pr-5-terraform.tfstate"},
	}
	for _, c := range cases {
		t.Run(c.prod+" "+c.template, func(t *testing.T) {
			t.Parallel()
			k, err := NewKeys(c.prod, c.template)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Render(c.pr)
			if err != nil || got != c.want {
				t.Fatalf("Render(%d) = %q, %v; want %q", c.pr, got, err, c.want)
			}
			if pr, ok := k.Match(got); !ok || pr != c.pr {
				t.Fatalf("Match(%q) = %d, %v; want %d", got, pr, ok, c.pr)
			}
		})
	}
}

func TestKeysMatchRejects(t *testing.T) {
	t.Parallel()
	k, err := NewKeys("app/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"app/terraform.tfstate",
		"app/terraform.tfstate.tflock",
		"app/pr-42/terraform.tfstate.tflock",
		"app/pr-042/terraform.tfstate",
		"app/pr-0/terraform.tfstate",
		"app/pr--1/terraform.tfstate",
		"app/pr-+1/terraform.tfstate",
		"app/pr-/terraform.tfstate",
		"app/pr-1x/terraform.tfstate",
		"app/pr-99999999999/terraform.tfstate",
		"other/pr-1/terraform.tfstate",
		"app/pr-1/x/terraform.tfstate",
		"app/pr-1/terraform.tfstate.prstate-apply.lock",
	} {
		if pr, ok := k.Match(key); ok {
			t.Errorf("Match(%q) = %d, true; want no match", key, pr)
		}
	}
}

func TestWorkspaceKeys(t *testing.T) {
	t.Parallel()
	k, err := NewWorkspaceKeys("app/terraform.tfstate", "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := k.Render(42)
	if got != "env:/pr-42/app/terraform.tfstate" || k.Workspace(42) != "pr-42" {
		t.Fatalf("Render = %q, workspace %q", got, k.Workspace(42))
	}
	if pr, ok := k.Match(got); !ok || pr != 42 {
		t.Fatalf("Match(%q) = %d, %v", got, pr, ok)
	}
	if _, ok := k.Match("env:/staging/app/terraform.tfstate"); ok {
		t.Fatal("a non-PR workspace matched")
	}
}

func TestKeysBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct{ prod, template, want string }{
		{"", "", "empty"},
		{"/app/terraform.tfstate", "", "start or end"},
		{"app/", "", "start or end"},
		{"app//x", "", "//"},
		{"app/../x", "", ".."},
		{"app/x", "{dir}/pr/{file}", "exactly once"},
		{"app/x", "{dir}/pr-{pr}/{pr}", "exactly once"},
		{"app/x", "{dir}/pr-{pr}/{nope}", "unknown placeholder"},
		{"app/x", "pr-{pr}/{key}", "outside"},
		{"app/x", "{dir}/../pr-{pr}/{file}", ".."},
		{"app/pr-4.tflock", "{dir}/pr-{pr}", "is the production state"},
		{"app/x", "{key}-md{pr}", "where production's -md5 lives"},
		{"app/pr-4", "{dir}/pr-{pr}", "the production key"},
		{"app/x", "{dir}/pr-{pr}.tflock", "must not put .tflock after {pr}"},
		// A PR key differs from production in a whole path segment.
		{"app/terraform.tfstate", "{key}{pr}", "whole path segment"},
		{"app/terraform.tfstate", "{key}.prstate-{pr}", "whole path segment"},
		{"app/terraform.tfstate", "{key}.pr-{pr}", "whole path segment"},
		{"app/terraform.tfstate", "{dir}/{file}-pr{pr}", "whole path segment"},
		{"app/terraform.tfstate", "{dir}/{file}.pr-{pr}", "whole path segment"},
		{"app/terraform.tfstate", "{key}/pr-{pr}", "whole path segment"},
		{"app/terraform.tfstate", "{dir}/{pr}/{file}", "whole path segment"},
		{"app/terraform.tfstate", "{dir}/t{pr}/{file}", "whole path segment"},
		{"app/pr-x/terraform.tfstate", "{dir}/../pr-{pr}", ".."},
		// Control and bidi characters, in the key or the template.
		{"app/te\u202erm.tfstate", "", "bidi"},
		{"app/x\u2066y", "", "bidi"},
		{"app/x\u200fy", "", "bidi"},
		{"app/x\ny", "", "control"},
		{"app/\xffx", "", "UTF-8"},
		{"app/x", "{dir}/pr-{pr}\u202d/{file}", "bidi"},
		{"app/x", "{dir}/pr-{pr}\t/{file}", "control"},
		// S3's 1,024 bytes, for the largest PR number and what lives beside it.
		{"app/" + strings.Repeat("s", 1000), "", "too long"},
		{strings.Repeat("s", 1010), "", "too long"},
	}
	for _, c := range cases {
		_, err := NewKeys(c.prod, c.template)
		var ue *usage.Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewKeys(%q, %q) = %v; want usage error containing %q", c.prod, c.template, err, c.want)
		}
	}
	k, _ := NewKeys("app/x", "")
	for _, pr := range []int{0, -1, ci.MaxPR + 1} {
		if _, err := k.Render(pr); err == nil {
			t.Errorf("Render(%d) accepted", pr)
		}
	}
}
