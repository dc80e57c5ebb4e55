package backend

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// SplitItems splits a backend-config setting given as one string (an
// action input, PRSTATE_BACKEND_CONFIG) into items: one per line, and on a
// line one per comma outside quotes and brackets, so a value such as
// endpoints={s3="...",dynamodb="..."} stays whole. Blank items are dropped
// and items are trimmed.
func SplitItems(s string) []string {
	var items []string
	for _, line := range strings.Split(s, "\n") {
		depth, quoted, escaped, start := 0, false, false, 0
		flush := func(end int) {
			if it := strings.TrimSpace(line[start:end]); it != "" {
				items = append(items, it)
			}
			start = end + 1
		}
		for i, c := range line {
			switch {
			case escaped:
				escaped = false
			case quoted && c == '\\':
				escaped = true
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == '{' || c == '[' || c == '(':
				depth++
			case (c == '}' || c == ']' || c == ')') && depth > 0:
				depth--
			case c == ',' && depth == 0:
				flush(i)
			}
		}
		flush(len(line))
	}
	return items
}

// backendConfigItems reads the items of `init -backend-config` in order:
// an item with "=" is a key=value pair, any other a file (HCL arguments,
// JSON when its name ends in .json) relative to the working directory dir
// (a path in fsys; an absolute file is taken from fsys's root).
func backendConfigItems(fsys fs.FS, dir, display string, items []string) ([]attr, error) {
	var out []attr
	for _, item := range items {
		if item == "" {
			continue
		}
		if eq := strings.Index(item, "="); eq >= 0 {
			a, err := pairAttr(item[:eq], item[eq+1:])
			if err != nil {
				return nil, err
			}
			out = append(out, a)
			continue
		}
		attrs, err := fileAttrs(fsys, dir, display, item)
		if err != nil {
			return nil, err
		}
		out = append(out, attrs...)
	}
	return out, nil
}

// pairAttr reads key=value as terraform's configValueFromCLI does: for an
// argument of a primitive type the value is a plain string converted to the
// type (key="x" is a key with quotes in it; use_lockfile=1 is true); for a
// collection or object it is an HCL expression (endpoints={s3="..."}). An
// argument prstate does not know is kept as a string.
func pairAttr(name, raw string) (attr, error) {
	a := attr{name: name, from: Source{Kind: FromBackendConfigPair, Item: name + "=" + raw}}
	if !hclsyntax.ValidIdentifier(name) {
		return attr{}, configErrorf("invalid backend-config item %q: want a file or name=value", a.from.Item)
	}
	s, known := s3Schema[name]
	if s.sensitive {
		a.from.Item = name + "=(sensitive)"
	}
	switch {
	case !known:
		a.value = cty.StringVal(raw)
	case s.nested == nil && s.typ.IsPrimitiveType():
		v, err := convert.Convert(cty.StringVal(raw), s.typ)
		if err != nil {
			return attr{}, configErrorf("invalid backend-config %s: want %s", a.from.Item, s.typ.FriendlyName())
		}
		a.value = v
	default:
		expr, diags := hclsyntax.ParseExpression([]byte(raw), "backend-config "+name, hcl.InitialPos)
		if diags.HasErrors() {
			return attr{}, configErrorf("invalid backend-config %s: %s", a.from.Item, diagText(diags))
		}
		v, diags := expr.Value(nil)
		if diags.HasErrors() {
			return attr{}, configErrorf("invalid backend-config %s: %s", a.from.Item, diagText(diags))
		}
		a.value = v
	}
	return a, nil
}

// fileAttrs reads a backend-config file: arguments only, as terraform
// requires of it.
func fileAttrs(fsys fs.FS, dir, display, file string) ([]attr, error) {
	p, shown := path.Join(dir, filepath.ToSlash(file)), path.Join(display, filepath.ToSlash(file))
	if filepath.IsAbs(file) {
		p, shown = strings.TrimPrefix(path.Clean(filepath.ToSlash(file)), "/"), file
	}
	src, err := fs.ReadFile(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, configErrorf("backend-config file %s does not exist (a backend-config file is relative to the working directory %s)", shown, display)
	}
	if err != nil {
		return nil, configErrorf("cannot read backend-config file %s: %v", shown, unwrapPathError(err))
	}
	f, diags := parseConfig(src, file, shown)
	if diags.HasErrors() {
		return nil, configErrorf("cannot parse backend-config file %s", diagText(diags))
	}
	if sb, ok := f.Body.(*hclsyntax.Body); ok && len(sb.Blocks) > 0 {
		b := sb.Blocks[0]
		return nil, configErrorf("backend-config file %s:%d: unexpected block %q: the file holds arguments of the backend block only, such as bucket = \"...\"", shown, b.DefRange().Start.Line, b.Type)
	}
	attrs, err := blockAttrs(f.Body, src, FromBackendConfigFile)
	if err != nil {
		return nil, err
	}
	for i := range attrs {
		if attrs[i].expr != "" {
			return nil, configErrorf("backend-config file %s: %s = %s: only literal values are allowed here", attrs[i].from, attrs[i].name, attrs[i].expr)
		}
	}
	return attrs, nil
}
