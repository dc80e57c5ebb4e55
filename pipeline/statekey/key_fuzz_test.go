package statekey

import (
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
)

// FuzzKeys: for every production key and template the scheme accepts,
// Match(Render(pr)) == pr, the PR key never equals the production key, it
// stays inside the production key's directory, it differs from the
// production key in a whole path segment (neither the PR pattern's
// literal part nor the production key is a prefix of the other, so IAM
// patterns app/pr-* and app/terraform.tfstate* separate them, backups
// included), it has no control or bidi characters, and the largest PR
// number's key fits S3's 1,024 bytes with what is stored beside it.
func FuzzKeys(f *testing.F) {
	f.Add("app/terraform.tfstate", "", 42)
	f.Add("terraform.tfstate", "{dir}/pr-{pr}/{file}", 1)
	f.Add("a/b.tfstate", "{key}.pr-{pr}", 7)
	f.Add("x", "{dir}/{pr}/{file}", 12)
	f.Add("app/pr-4.tflock", "{dir}/pr-{pr}", 4)
	f.Add("env:/pr-4-md5", "{dir}/pr-{pr}-md5", 4)
	f.Add("app/x", "{key}-md{pr}", 5)
	f.Add("app/pr-4", "{dir}/pr-{pr}", 4)
	f.Add("app/terraform.tfstate", "{key}{pr}", 3)
	f.Add("app/terraform.tfstate", "{dir}/{file}.pr-{pr}", 3)
	f.Add("app/terraform.tfstate", "{dir}/{pr}/{file}", 3)
	f.Add("app/te\u202erm.tfstate", "", 3)
	f.Add("app/x", "{dir}/pr-{pr}\u2066/{file}", 3)
	f.Add("a/"+strings.Repeat("b", 990), "", 2147483647)
	f.Fuzz(func(t *testing.T, prod, template string, pr int) {
		k, err := NewKeys(prod, template)
		if err != nil {
			return
		}
		key, err := k.Render(pr)
		if err != nil {
			if ci.ValidatePR(pr) == nil {
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
		prefix := k.ListPrefix()
		if strings.HasPrefix(prefix, prod) || strings.HasPrefix(prod, prefix) || strings.HasPrefix(key, prod) {
			t.Fatalf("PR key %q (pattern %s*) and production key %q do not differ in a whole segment", key, prefix, prod)
		}
		for _, s := range append(siblingSuffixes, BackupInfix+"20260102T030405.000000000Z") {
			if strings.HasPrefix(prod+s, prefix) {
				t.Fatalf("the PR pattern %s* matches production's %q", prefix, prod+s)
			}
		}
		for _, c := range key {
			if escape.IsDangerous(c) {
				t.Fatalf("PR key %q has a control or bidi character %U", key, c)
			}
		}
		if !utf8.ValidString(key) {
			t.Fatalf("PR key %q is not UTF-8", key)
		}
		largest, err := k.Render(ci.MaxPR)
		if err != nil || len(largest)+longestPRSibling > MaxKeyBytes || len(prod)+longestProductionSibling > MaxKeyBytes {
			t.Fatalf("largest PR key %q (%d bytes) or production %q does not fit: %v", largest, len(largest), prod, err)
		}
		if other := pr%1000 + 1; other != pr {
			if okey, _ := k.Render(other); okey == key {
				t.Fatalf("PRs %d and %d share key %q", pr, other, key)
			}
		}
	})
}
