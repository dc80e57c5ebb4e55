package backend

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/usage"
	"github.com/zclconf/go-cty/cty"
)

// TestWriteFileAtomic: the file is replaced whole, with the mode asked
// for, and no temporary file is left beside it.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "prstate.s3.tfbackend")
	if err := os.WriteFile(p, []byte("old content that is longer than the new one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new\n" {
		t.Fatalf("content %q, %v", got, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestWriteFileRefusesSymlinks: a destination that is a symbolic link is
// refused (exit 2), and neither the link nor its target changes.
func TestWriteFileRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "prstate.s3.tfbackend")
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(p, []byte("new\n"), 0o644)
	var ce *usage.Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("got %v", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "precious\n" {
		t.Errorf("target changed: %q", got)
	}
	if fi, _ := os.Lstat(p); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
	// a dangling link too
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dangling, []byte("x"), 0o644); !errors.As(err, &ce) {
		t.Fatalf("dangling link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); !os.IsNotExist(err) {
		t.Error("written through a dangling link")
	}
	// a directory
	if err := WriteFile(dir, []byte("x"), 0o644); !errors.As(err, &ce) {
		t.Fatalf("directory: %v", err)
	}
	// a missing parent directory is a plain failure
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir"), []byte("x"), 0o644); err == nil || errors.As(err, &ce) {
		t.Fatalf("missing directory: %v", err)
	}
}

// TestRenderValueModes: one value, as the PR backend file writes it and
// as doctor shows it.
func TestRenderValueModes(t *testing.T) {
	obj := cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b c": cty.NumberIntVal(2)})
	for _, c := range []struct {
		v             cty.Value
		hcl, forHuman string
	}{
		{cty.NilVal, "null", ""},
		{cty.NullVal(cty.String), "null", ""},
		{cty.UnknownVal(cty.String), "null", ""},
		{cty.StringVal(`a "${b}"`), `"a \"$${b}\""`, `a "${b}"`},
		{cty.True, "true", "true"},
		{cty.NumberFloatVal(1.5), "1.5", "1.5"},
		{cty.ListVal([]cty.Value{cty.StringVal("x"), cty.NullVal(cty.String)}), `["x", null]`, "[x, ]"},
		{cty.EmptyObjectVal, "{}", "{}"},
		{obj, `{ a = "x", "b c" = 2 }`, "{a = x, b c = 2}"},
	} {
		if got := RenderValue(c.v, AsHCL); got != c.hcl {
			t.Errorf("RenderValue(%#v, AsHCL) = %s, want %s", c.v, got, c.hcl)
		}
		if got := RenderValue(c.v, ForDisplay); got != c.forHuman {
			t.Errorf("RenderValue(%#v, ForDisplay) = %q, want %q", c.v, got, c.forHuman)
		}
	}
}
