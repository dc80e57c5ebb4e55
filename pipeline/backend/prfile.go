package backend

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// PRFile renders the backend configuration file of a PR job: every
// setting of the resolved production backend, with the key setting
// replaced by key, so `init -backend-config=<file>` alone configures the
// PR state, endpoints, credentials settings and locking included. Under
// workspace isolation key stays production's and workspace names the PR
// workspace (the file says how to select it; the s3 backend puts the state
// under <workspace_key_prefix>/<workspace>/ itself).
func (r *Resolved) PRFile(key, workspace string) []byte {
	var b strings.Builder
	b.WriteString("# written by prstate: terraform init -backend-config=<this file>\n")
	names := r.Names()
	if _, ok := r.Lookup("key"); !ok {
		i := 0
		if len(names) > 0 && names[0] == "bucket" {
			i = 1
		}
		names = append(names[:i], append([]string{"key"}, names[i:]...)...)
	}
	for _, name := range names {
		v := r.Value(name)
		if name == "key" {
			v = cty.StringVal(key)
		}
		fmt.Fprintf(&b, "%-20s = %s\n", name, RenderValue(v, AsHCL))
	}
	if workspace != "" {
		fmt.Fprintf(&b, "# workspace: %s (select it with TF_WORKSPACE=%s)\n", workspace, workspace)
	}
	return []byte(b.String())
}

// ValueMode is how RenderValue writes a value.
type ValueMode int

const (
	// AsHCL writes an HCL expression that init reads back as exactly the
	// value: strings quoted as HCL quotes them (QuoteHCL), map keys that
	// are not identifiers quoted too, a null value as null.
	AsHCL ValueMode = iota
	// ForDisplay writes the value for people: strings and map keys as
	// they are, nothing for a null or unknown value.
	ForDisplay
)

// RenderValue writes v on one line, as mode says.
func RenderValue(v cty.Value, mode ValueMode) string {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		if mode == ForDisplay {
			return ""
		}
		return "null"
	}
	t := v.Type()
	switch {
	case t == cty.String:
		if mode == ForDisplay {
			return v.AsString()
		}
		return QuoteHCL(v.AsString())
	case t == cty.Bool:
		return fmt.Sprint(v.True())
	case t == cty.Number:
		return v.AsBigFloat().Text('g', -1)
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, RenderValue(e, mode))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case t.IsMapType() || t.IsObjectType():
		m := v.AsValueMap()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return "{}"
		}
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			name := k
			if mode == AsHCL && !hclsyntax.ValidIdentifier(k) {
				name = QuoteHCL(k)
			}
			parts = append(parts, name+" = "+RenderValue(m[k], mode))
		}
		if mode == ForDisplay {
			return "{" + strings.Join(parts, ", ") + "}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	if mode == ForDisplay {
		return v.GoString()
	}
	return "null"
}

// QuoteHCL quotes s as an HCL string literal that reads back as s: quotes,
// backslashes and control characters escaped, and the template
// introducers "${" and "%{" doubled (or init reads them as interpolation).
func QuoteHCL(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '$', '%':
			b.WriteRune(r)
			if strings.HasPrefix(s[i+1:], "{") {
				b.WriteRune(r)
			}
		default:
			switch {
			case r == utf8.RuneError:
				b.WriteString(`\ufffd`)
			case !unicode.IsPrint(r) && r < 0x10000:
				fmt.Fprintf(&b, `\u%04x`, r)
			case !unicode.IsPrint(r):
				fmt.Fprintf(&b, `\U%08x`, r)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// CheckDestination refuses, before any work, a destination WriteFile
// would refuse: a symbolic link, or anything but a regular file.
func CheckDestination(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return configErrorf("refusing to write %s: it is a symbolic link, and prstate never writes through one (remove it, or choose another backend-config-file)", path)
	case err == nil && !fi.Mode().IsRegular():
		return configErrorf("refusing to write %s: it is not a regular file", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// WriteFile writes data to path atomically: into a new file beside it
// (created with O_EXCL, so never an existing file or link), then renamed
// over path. A path that is a symbolic link (or not a regular file) is
// refused with a *usage.Error: prstate never writes through a link.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if err := CheckDestination(path); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	var err error
	var f *os.File
	var tmp string
	for range 10 {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		tmp = filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(rnd[:]))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
