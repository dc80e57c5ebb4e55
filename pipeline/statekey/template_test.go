package statekey

import "testing"

func TestTemplateMatcher(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		template string
		yes, no  []string
	}{
		{"", []string{"app/pr-42/terraform.tfstate", "pr-1/terraform.tfstate", "a/b/pr-7/x.tfstate", "env:/staging/app/pr-3/t"}, []string{"app/terraform.tfstate", "app/pr-0/terraform.tfstate", "app/pr-x/t", "app/pr-42", "pr-42"}},
		{"{key}.pr-{pr}", []string{"app/terraform.tfstate.pr-9"}, []string{"app/terraform.tfstate", "app/pr-9/terraform.tfstate"}},
		{"{dir}/previews/{pr}/{file}", []string{"app/previews/12/terraform.tfstate"}, []string{"app/pr-12/terraform.tfstate"}},
	} {
		m := TemplateMatcher(tc.template)
		for _, k := range tc.yes {
			if !m(k) {
				t.Errorf("%q: %q is a PR key", tc.template, k)
			}
		}
		for _, k := range tc.no {
			if m(k) {
				t.Errorf("%q: %q is not a PR key", tc.template, k)
			}
		}
	}
}

func TestPlaceholdersAreTheGrammar(t *testing.T) {
	t.Parallel()
	if got := Placeholders(); got != "{dir} {file} {key} {pr}" {
		t.Errorf("Placeholders() = %q", got)
	}
	if _, err := NewKeys("app/terraform.tfstate", "{dir}/pr-{pr}/{nope}"); err == nil {
		t.Error("an unknown placeholder was accepted")
	}
}
