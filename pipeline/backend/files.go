package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// Binary says whose rules pick the configuration files: terraform reads
// *.tf and *.tf.json; tofu also reads *.tofu and *.tofu.json, and ignores
// x.tf (x.tf.json) where x.tofu (x.tofu.json) exists.
type Binary string

// The values of the binary setting.
const (
	// Auto uses terraform's rules unless the directory has .tofu files:
	// then tofu's, when only they find a backend block, and an error when
	// the two find different ones.
	Auto      Binary = ""
	Terraform Binary = "terraform"
	OpenTofu  Binary = "tofu"
)

// ParseBinary reads the binary setting: auto (or empty), terraform, tofu
// (opentofu).
func ParseBinary(s string) (Binary, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "terraform":
		return Terraform, nil
	case "tofu", "opentofu":
		return OpenTofu, nil
	}
	return Auto, configErrorf("invalid binary %q: want auto, terraform or tofu", s)
}

// configExt is a configuration file's extension under bin's rules, "" for
// a file bin does not read.
func configExt(name string, bin Binary) string {
	for _, ext := range []string{".tf.json", ".tf", ".tofu.json", ".tofu"} {
		if strings.HasSuffix(name, ext) {
			if strings.HasPrefix(ext, ".tofu") && bin != OpenTofu {
				return ""
			}
			return ext
		}
	}
	return ""
}

// ignoredFile: editor and hidden files, which both binaries skip.
func ignoredFile(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") ||
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#")
}

// configFiles splits names (a directory listing) into the primary and
// override files bin reads, each in name order, as both binaries load them.
func configFiles(names []string, bin Binary) (primary, override []string) {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, name := range sorted {
		ext := configExt(name, bin)
		if ext == "" || ignoredFile(name) {
			continue
		}
		base := strings.TrimSuffix(name, ext)
		if base == "override" || strings.HasSuffix(base, "_override") {
			override = append(override, name)
		} else {
			primary = append(primary, name)
		}
	}
	if bin == OpenTofu {
		primary, override = hideTofuAlternatives(primary), hideTofuAlternatives(override)
	}
	return primary, override
}

// hideTofuAlternatives drops x.tf where x.tofu is in the same list, and
// x.tf.json where x.tofu.json is (tofu's filterTfPathsWithTofuAlternatives).
func hideTofuAlternatives(names []string) []string {
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	var keep []string
	for _, n := range names {
		if base, ok := strings.CutSuffix(n, ".tf.json"); ok && has[base+".tofu.json"] {
			continue
		}
		if base, ok := strings.CutSuffix(n, ".tf"); ok && has[base+".tofu"] {
			continue
		}
		keep = append(keep, n)
	}
	return keep
}

// hasTofuFiles tells whether names hold a file only tofu reads.
func hasTofuFiles(names []string) bool {
	for _, n := range names {
		if !ignoredFile(n) && (strings.HasSuffix(n, ".tofu") || strings.HasSuffix(n, ".tofu.json")) {
			return true
		}
	}
	return false
}

// attr is one argument as a file gives it: evaluated, or the source text
// of an expression that needs more than literals (tofu's early evaluation
// of variables and locals).
type attr struct {
	name  string
	value cty.Value // cty.NilVal when expr could not be evaluated alone
	expr  string
	from  Source
}

// block is the backend block a directory's files declare, after overrides.
type block struct {
	typ   string // backend type ("s3"), or "cloud" for a cloud block
	file  string // display path of the file that declared it
	line  int
	from  SourceKind
	attrs []attr
}

func (b *block) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// readBlock finds the backend block of the files in dir (a path in fsys;
// display is how messages name the directory), applying override files
// the way terraform and tofu do: a backend (or cloud) block in an override
// file replaces the whole earlier one. It returns nil when there is none.
func readBlock(fsys fs.FS, dir, display string, names []string, bin Binary) (*block, error) {
	primary, override := configFiles(names, bin)
	var found *block
	for _, name := range primary {
		blocks, err := fileBlocks(fsys, dir, display, name, FromBlock)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			if found != nil {
				what := "backend"
				if b.typ == "cloud" || found.typ == "cloud" {
					what = "backend or cloud"
				}
				return nil, configErrorf("duplicate %s configuration in %s: a module may have only one, and %s has one already", what, b.where(), found.where())
			}
			found = b
		}
	}
	for _, name := range override {
		blocks, err := fileBlocks(fsys, dir, display, name, FromOverride)
		if err != nil {
			return nil, err
		}
		if len(blocks) > 1 {
			return nil, configErrorf("duplicate backend configuration in override file %s: each override file may have only one", blocks[1].where())
		}
		if len(blocks) == 1 {
			found = blocks[0]
		}
	}
	return found, nil
}

// parseConfig parses src, the file name, as terraform does: JSON for a
// name ending in .json, HCL otherwise. shown names it in diagnostics.
func parseConfig(src []byte, name, shown string) (*hcl.File, hcl.Diagnostics) {
	if strings.HasSuffix(name, ".json") {
		return hcljson.Parse(src, shown)
	}
	return hclsyntax.ParseConfig(src, shown, hcl.InitialPos)
}

// fileBlocks parses one configuration file and returns the backend and
// cloud blocks of its terraform blocks.
func fileBlocks(fsys fs.FS, dir, display, name string, kind SourceKind) ([]*block, error) {
	shown := path.Join(display, name)
	src, err := fs.ReadFile(fsys, path.Join(dir, name))
	if err != nil {
		return nil, configErrorf("cannot read %s: %v", shown, unwrapPathError(err))
	}
	f, diags := parseConfig(src, name, shown)
	if diags.HasErrors() {
		return nil, configErrorf("cannot parse %s", diagText(diags))
	}
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}}})
	if diags.HasErrors() {
		return nil, configErrorf("cannot parse %s", diagText(diags))
	}
	var out []*block
	for _, tf := range content.Blocks {
		inner, _, diags := tf.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
			{Type: "backend", LabelNames: []string{"type"}},
			{Type: "cloud"},
		}})
		if diags.HasErrors() {
			return nil, configErrorf("cannot parse %s", diagText(diags))
		}
		for _, b := range inner.Blocks {
			blk := &block{typ: "cloud", file: shown, line: b.DefRange.Start.Line, from: kind}
			if b.Type == "backend" {
				blk.typ = b.Labels[0]
			}
			if blk.typ == "s3" {
				if blk.attrs, err = blockAttrs(b.Body, src, kind); err != nil {
					return nil, err
				}
			}
			out = append(out, blk)
		}
	}
	return out, nil
}

// blockAttrs reads a backend block's arguments in source order. Nested
// blocks are refused as terraform and tofu refuse them: endpoints,
// assume_role and the like are arguments (assume_role = { ... }).
func blockAttrs(body hcl.Body, src []byte, kind SourceKind) ([]attr, error) {
	if sb, ok := body.(*hclsyntax.Body); ok {
		for _, b := range sb.Blocks {
			r := b.DefRange()
			return nil, configErrorf("%s:%d: blocks of type %q are not expected in a backend block: write it as an argument, %s = { ... }", r.Filename, r.Start.Line, b.Type, b.Type)
		}
	}
	attrs, diags := body.JustAttributes()
	if diags.HasErrors() {
		return nil, configErrorf("cannot parse %s", diagText(diags))
	}
	var out []attr
	for _, a := range attrs {
		at := attr{name: a.Name, from: Source{Kind: kind, File: a.Range.Filename, Line: a.Range.Start.Line}}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			r := a.Expr.Range()
			at.expr = strings.TrimSpace(string(r.SliceBytes(src)))
		} else {
			at.value = v
		}
		out = append(out, at)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].from.Line != out[j].from.Line {
			return out[i].from.Line < out[j].from.Line
		}
		return out[i].name < out[j].name
	})
	return out, nil
}

// diagText is the first error of diags on one line: file:line: summary: detail.
func diagText(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, msg)
		}
		return oneLine(msg)
	}
	return oneLine(diags.Error())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unwrapPathError drops the path an fs error repeats.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
