package backend

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// DataDir is the data directory terraform and tofu use in a working
// directory: TF_DATA_DIR (relative to the working directory) or .terraform.
func DataDir(env func(string) string) string {
	if env != nil {
		if d := env("TF_DATA_DIR"); d != "" {
			return d
		}
	}
	return ".terraform"
}

// joinDir joins a data directory to dir (both paths in an fs.FS rooted at
// "/"; an absolute data directory stands alone) and to display.
func joinDir(dir, display, dataDir, name string) (p, shown string) {
	if filepath.IsAbs(dataDir) {
		p := path.Join(filepath.ToSlash(dataDir), name)
		return strings.TrimPrefix(p, "/"), p
	}
	return path.Join(dir, filepath.ToSlash(dataDir), name), path.Join(display, filepath.ToSlash(dataDir), name)
}

// InitState is the backend configuration an earlier `init` recorded in
// <data dir>/terraform.tfstate, which terraform and tofu use for every
// later command until the next init.
type InitState struct {
	Path   string               // as messages show it
	Type   string               // backend type
	Config map[string]cty.Value // the settings that are not null
}

// String returns a string setting of the record, "" when unset.
func (s *InitState) String(name string) string {
	if s == nil {
		return ""
	}
	return stringOf(s.Config[name])
}

// Names lists the record's settings.
func (s *InitState) Names() []string {
	var names []string
	for n := range s.Config {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReadInitState reads the record of the working directory dir (a path in
// fsys, display how messages name it). It returns nil when there is none
// (no init yet, or an init without a backend).
func ReadInitState(fsys fs.FS, dir, display string, env func(string) string) (*InitState, error) {
	p, shown := joinDir(dir, display, DataDir(env), "terraform.tfstate")
	raw, err := fs.ReadFile(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, configErrorf("cannot read %s: %v", shown, unwrapPathError(err))
	}
	var rec struct {
		Backend *struct {
			Type   string          `json:"type"`
			Config json.RawMessage `json:"config"`
		} `json:"backend"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, configErrorf("cannot parse %s, recorded by an earlier init: %v (run init again, or delete it)", shown, err)
	}
	if rec.Backend == nil || rec.Backend.Type == "" {
		return nil, nil
	}
	st := &InitState{Path: shown, Type: rec.Backend.Type, Config: map[string]cty.Value{}}
	if len(rec.Backend.Config) == 0 || string(rec.Backend.Config) == "null" {
		return st, nil
	}
	ty, err := ctyjson.ImpliedType(rec.Backend.Config)
	if err == nil && !ty.IsObjectType() {
		err = errors.New("config is not an object")
	}
	var obj cty.Value
	if err == nil {
		obj, err = ctyjson.Unmarshal(rec.Backend.Config, ty)
	}
	if err != nil {
		return nil, configErrorf("cannot parse %s, recorded by an earlier init: %v (run init again, or delete it)", shown, err)
	}
	for name, v := range obj.AsValueMap() {
		v = dropNulls(v)
		if v.IsNull() {
			continue
		}
		if s, ok := s3Schema[name]; ok && st.Type == "s3" {
			cv, err := conform(v, s)
			if err != nil {
				return nil, configErrorf("cannot use %s, recorded by an earlier init: %s: %v (run init again, or delete it)", shown, name, err)
			}
			v = cv
		}
		st.Config[name] = v
	}
	return st, nil
}

// dropNulls removes null attributes of an object (a record lists every
// argument of endpoints, most of them null); an object left empty is null.
func dropNulls(v cty.Value) cty.Value {
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return v
	}
	m := map[string]cty.Value{}
	for k, e := range v.AsValueMap() {
		if e = dropNulls(e); !e.IsNull() {
			m[k] = e
		}
	}
	if len(m) == 0 {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return cty.ObjectVal(m)
}
