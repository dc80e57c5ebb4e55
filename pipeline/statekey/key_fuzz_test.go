package statekey

import (
	"path"
	"strings"
	"testing"
)

// FuzzKeys: for every production key and template the scheme accepts,
// Match(Render(pr)) == pr, the PR key never equals the production key, and
// it stays inside the production key's directory.
func FuzzKeys(f *testing.F) {
	f.Add("app/terraform.tfstate", "", 42)
	f.Add("terraform.tfstate", "{dir}/pr-{pr}/{file}", 1)
	f.Add("a/b.tfstate", "{key}.pr-{pr}", 7)
	f.Add("x", "{dir}/{pr}/{file}", 12)
	f.Add("app/pr-4.tflock", "{dir}/pr-{pr}", 4)
	f.Add("env:/pr-4-md5", "{dir}/pr-{pr}-md5", 4)
	f.Add("app/x", "{key}-md{pr}", 5)
	f.Add("app/pr-4", "{dir}/pr-{pr}", 4)
	f.Fuzz(func(t *testing.T, prod, template string, pr int) {
		k, err := NewKeys(prod, template)
		if err != nil {
			return
		}
		key, err := k.Render(pr)
		if err != nil {
			if ValidatePR(pr) == nil {
				t.Fatalf("Render(%d) failed: %v", pr, err)
			}
			return
		}
		if key == prod {
			t.Fatalf("PR key equals production key %q", prod)
		}
		if err := ValidateKey(key); err != nil {
			t.Fatalf("PR key %q invalid: %v", key, err)
		}
		if dir := path.Dir(prod); dir != "." && !strings.HasPrefix(key, dir+"/") {
			t.Fatalf("PR key %q escapes %q", key, dir)
		}
		if got, ok := k.Match(key); !ok || got != pr {
			t.Fatalf("Match(%q) = %d, %v; want %d", key, got, ok, pr)
		}
		if _, ok := k.Match(prod); ok {
			t.Fatalf("production key %q matched", prod)
		}
		for _, s := range siblingSuffixes {
			if key+s == prod || key == prod+s {
				t.Fatalf("PR key %q and production key %q are siblings (%s)", key, prod, s)
			}
		}
		if other := pr%1000 + 1; other != pr {
			if okey, _ := k.Render(other); okey == key {
				t.Fatalf("PRs %d and %d share key %q", pr, other, key)
			}
		}
	})
}
