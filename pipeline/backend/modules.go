package backend

import (
	"io/fs"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Module is what prstate stacks reads of one directory's configuration
// files: whether it is a root module with a backend "s3" block (after
// override files), and which local modules it calls.
type Module struct {
	Dir   string   // path in fsys
	S3    bool     // its backend block (override files applied) is backend "s3"
	Calls []string // directories of the local modules it calls (source = "./..." or "../..."), paths in fsys
}

// ReadModule parses the configuration files of dir (names: its listing)
// once, under bin's file rules (Auto: tofu's when the directory has .tofu
// files), for its backend block and its module calls. A file that does
// not parse is an error naming it, as init would fail on it.
func ReadModule(fsys fs.FS, dir string, names []string, bin Binary) (Module, error) {
	if bin == Auto {
		bin = Terraform
		if hasTofuFiles(names) {
			bin = OpenTofu
		}
	}
	m := Module{Dir: dir}
	primary, override := configFiles(names, bin)
	var typ string
	seen := map[string]bool{}
	for i, name := range append(primary, override...) {
		isOverride := i >= len(primary)
		shown := path.Join(dir, name)
		src, err := fs.ReadFile(fsys, shown)
		if err != nil {
			return Module{}, configErrorf("cannot read %s: %v", shown, unwrapPathError(err))
		}
		f, diags := parseConfig(src, name, shown)
		if diags.HasErrors() {
			return Module{}, configErrorf("cannot parse %s", diagText(diags))
		}
		content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
			{Type: "terraform"},
			{Type: "module", LabelNames: []string{"name"}},
		}})
		if diags.HasErrors() {
			return Module{}, configErrorf("cannot parse %s", diagText(diags))
		}
		for _, b := range content.Blocks {
			switch b.Type {
			case "terraform":
				inner, _, diags := b.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
					{Type: "backend", LabelNames: []string{"type"}},
					{Type: "cloud"},
				}})
				if diags.HasErrors() {
					return Module{}, configErrorf("cannot parse %s", diagText(diags))
				}
				for _, bb := range inner.Blocks {
					t := "cloud"
					if bb.Type == "backend" {
						t = bb.Labels[0]
					}
					if typ == "" || isOverride {
						typ = t
					}
				}
			case "module":
				attrs, _ := b.Body.JustAttributes()
				a, ok := attrs["source"]
				if !ok {
					continue
				}
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() {
					continue
				}
				if to, ok := localSource(dir, v.AsString()); ok && !seen[to] {
					seen[to] = true
					m.Calls = append(m.Calls, to)
				}
			}
		}
	}
	m.S3 = typ == "s3"
	return m, nil
}

// localSource is the directory a module source names when it is a local
// path ("./x", "../x", as terraform recognises them), joined to dir.
// A path that leaves fsys's root is not followed.
func localSource(dir, src string) (string, bool) {
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return "", false
	}
	p := path.Join(dir, src)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}
