package stacks

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/prstate/prstate/pipeline/backend"
)

func threeStacks() fstest.MapFS {
	s3 := func(key string) string {
		return "terraform {\n  backend \"s3\" {\n    bucket = \"b\"\n    key = \"" + key + "\"\n  }\n}\n"
	}
	return fstest.MapFS{
		"repo/stacks/app/main.tf":              {Data: []byte(s3("app") + "module \"s\" {\n  source = \"../../modules/shared\"\n}\n")},
		"repo/stacks/db/main.tf.json":          {Data: []byte(`{"terraform":{"backend":{"s3":{"bucket":"b","key":"db"}}},"module":{"s":{"source":"../../modules/shared"}}}`)},
		"repo/stacks/net/main.tf":              {Data: []byte(s3("net") + "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n")},
		"repo/stacks/local/main.tf":            {Data: []byte("terraform {\n  backend \"local\" {}\n}\n")},
		"repo/stacks/over/main.tf":             {Data: []byte(s3("over"))},
		"repo/stacks/over/override.tf":         {Data: []byte("terraform {\n  backend \"local\" {}\n}\n")},
		"repo/stacks/app/.terraform/m/x.tf":    {Data: []byte(s3("copy"))},
		"repo/modules/shared/main.tf":          {Data: []byte("module \"i\" {\n  source = \"../inner\"\n}\n")},
		"repo/modules/inner/main.tf":           {Data: []byte("variable \"x\" {}\n")},
		"repo/modules/inner/files/policy.json": {Data: []byte("{}")},
		"repo/README.md":                       {Data: []byte("x")},
	}
}

// TestFindAndChanged: Find lists the backend "s3" root modules (not a
// local backend, not one an override file turns local, not init's copies
// under .terraform); Changed follows local module calls transitively.
func TestFindAndChanged(t *testing.T) {
	g, err := Find(threeStacks(), "repo", backend.Auto)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"repo/stacks/app", "repo/stacks/db", "repo/stacks/net"}; !slices.Equal(g.Stacks, want) {
		t.Fatalf("stacks %q, want %q", g.Stacks, want)
	}
	for _, c := range []struct {
		files []string
		want  []string
	}{
		{[]string{"repo/modules/shared/main.tf"}, []string{"repo/stacks/app", "repo/stacks/db"}},
		{[]string{"repo/modules/inner/files/policy.json"}, []string{"repo/stacks/app", "repo/stacks/db"}},
		{[]string{"repo/stacks/net/main.tf", "repo/README.md"}, []string{"repo/stacks/net"}},
		{[]string{"repo/README.md", "repo/modules/unused/x.tf"}, nil},
		{[]string{"repo/stacks/db/vars/prod.tfvars"}, []string{"repo/stacks/db"}},
	} {
		if got := g.Changed(c.files); !slices.Equal(got, c.want) {
			t.Errorf("Changed(%q) = %q, want %q", c.files, got, c.want)
		}
	}
}

// TestFindRefusesAFileThatDoesNotParse: init would fail on it, so a
// stack list that skipped it would hide a stack.
func TestFindRefusesAFileThatDoesNotParse(t *testing.T) {
	fsys := threeStacks()
	fsys["repo/stacks/bad/main.tf"] = &fstest.MapFile{Data: []byte("terraform {\n")}
	if _, err := Find(fsys, "repo", backend.Auto); err == nil {
		t.Fatal("no error")
	}
}
