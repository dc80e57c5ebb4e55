package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// ChangeSet is a plan's normalized changes (`terraform show -json` or
// `tofu show -json` of a saved plan): what the reviewed-plan gate records
// on a pull request and compares at apply. It holds addresses, actions and
// digests only: no value from the plan is kept in clear.
type ChangeSet struct {
	// Version is the plan's terraform_version (OpenTofu writes its own
	// version there), Format its format_version.
	Version string `json:"version,omitempty"`
	Format  string `json:"format,omitempty"`
	// Resources are the resource_changes whose actions are not no-op,
	// sorted by address; Outputs the output_changes ("output.<name>").
	Resources []Change `json:"resources"`
	Outputs   []Change `json:"outputs,omitempty"`
	// Drift is resource_drift: what a refresh found changed outside
	// Terraform. Shown apart, never a mismatch.
	Drift []Change `json:"drift,omitempty"`
	// Unchanged are the managed resources the plan leaves as they are,
	// with their values' digests: verify-plan tells an apply-time change
	// that only restores what a reviewer saw (production changed out of
	// band since the plan) from one nobody reviewed.
	Unchanged []Snapshot `json:"unchanged,omitempty"`
}

// Snapshot is the digests of one unchanged resource's values, by the
// paths Attr uses.
type Snapshot struct {
	Address string            `json:"address"`
	Values  map[string]string `json:"values"`
}

// Change is one resource's (or output's) planned change: the actions, and
// for each attribute whose value changes a digest of its before and after.
type Change struct {
	Address string   `json:"address"`
	Actions []string `json:"actions"`
	Attrs   []Attr   `json:"attrs,omitempty"`
}

// Attr is one changing attribute value. Path is the attribute's top-level
// name (a schema name, not a value), followed by "#" and a digest of the
// rest of the path when the change is nested (map keys are values). Before
// and After are value digests: "" when absent, Unknown when the after
// value is known only after apply.
type Attr struct {
	Path      string `json:"path"`
	Before    string `json:"before,omitempty"`
	After     string `json:"after,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// Unknown is the after digest of a value known only after apply.
const Unknown = "unknown"

// ActionWords is the actions as terraform says them ("create", "update",
// "delete, create" for a replace).
func (c Change) ActionWords() string { return strings.Join(c.Actions, ", ") }

// digest is the digest of one value, in canonical JSON (keys sorted,
// numbers as written): 128 bits of SHA-256 under a domain prefix.
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprint(v))
	}
	return digestBytes(b)
}

func digestBytes(b []byte) string {
	h := sha256.New()
	h.Write([]byte("prstate-plan-v1\x00"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// planChange is what is read of one resource_changes, resource_drift or
// output_changes entry.
type planChange struct {
	Address string `json:"address"`
	Mode    string `json:"mode"`
	Change  struct {
		Actions         []string        `json:"actions"`
		Before          json.RawMessage `json:"before"`
		After           json.RawMessage `json:"after"`
		AfterUnknown    json.RawMessage `json:"after_unknown"`
		BeforeSensitive json.RawMessage `json:"before_sensitive"`
		AfterSensitive  json.RawMessage `json:"after_sensitive"`
	} `json:"change"`
}

// ReadChangeSet reads the output of `terraform show -json <planfile>` as a
// stream: resource_changes, resource_drift and output_changes are decoded
// one entry at a time, everything else (prior_state, planned_values,
// configuration) is skipped, so memory stays near one entry's size
// whatever the plan's.
func ReadChangeSet(r io.Reader) (ChangeSet, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var cs ChangeSet
	if err := expectDelim(dec, '{'); err != nil {
		return ChangeSet{}, notPlanJSON(err)
	}
	seenFormat := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ChangeSet{}, notPlanJSON(err)
		}
		key, _ := tok.(string)
		switch key {
		case "format_version":
			seenFormat = true
			if err := dec.Decode(&cs.Format); err != nil {
				return ChangeSet{}, notPlanJSON(err)
			}
		case "terraform_version":
			if err := dec.Decode(&cs.Version); err != nil {
				return ChangeSet{}, notPlanJSON(err)
			}
		case "resource_changes", "resource_drift":
			list, err := readChanges(dec, key == "resource_changes", &cs.Unchanged)
			if err != nil {
				return ChangeSet{}, notPlanJSON(err)
			}
			if key == "resource_changes" {
				cs.Resources = list
			} else {
				cs.Drift = list
			}
		case "output_changes":
			list, err := readOutputs(dec)
			if err != nil {
				return ChangeSet{}, notPlanJSON(err)
			}
			cs.Outputs = list
		default:
			if err := skipValue(dec); err != nil {
				return ChangeSet{}, notPlanJSON(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return ChangeSet{}, notPlanJSON(err)
	}
	if !seenFormat {
		return ChangeSet{}, errors.New("not the JSON of a saved plan (no format_version): pass the output of terraform show -json <planfile>")
	}
	if cs.Resources == nil {
		cs.Resources = []Change{}
	}
	return cs, nil
}

func notPlanJSON(err error) error {
	return fmt.Errorf("not the JSON of a saved plan (terraform show -json <planfile>): %w", err)
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, found %v", string(d), tok)
	}
	return nil
}

// skipValue reads past one value. Decoding into a RawMessage uses the
// decoder's fast scanner; the bytes are garbage at once, so memory stays
// near the largest section skipped.
func skipValue(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}

// readChanges reads an array of resource changes; with managedOnly, data
// sources' reads are left out (they are not changes to infrastructure).
func readChanges(dec *json.Decoder, managedOnly bool, unchanged *[]Snapshot) ([]Change, error) {
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok == nil {
		return nil, nil
	} else if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("expected an array, found %v", tok)
	}
	var out []Change
	for dec.More() {
		var pc planChange
		if err := dec.Decode(&pc); err != nil {
			return nil, err
		}
		if managedOnly && pc.Mode == "data" {
			continue
		}
		if managedOnly && len(pc.Change.Actions) == 1 && pc.Change.Actions[0] == "no-op" {
			snap, err := snapshot(pc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pc.Address, err)
			}
			*unchanged = append(*unchanged, snap)
			continue
		}
		var err error
		if out, err = appendNormalized(out, pc); err != nil {
			return nil, err
		}
	}
	return endSorted(dec, out)
}

// readOutputs reads output_changes, an object of name -> change.
func readOutputs(dec *json.Decoder) ([]Change, error) {
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok == nil {
		return nil, nil
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object, found %v", tok)
	}
	var out []Change
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var pc planChange
		if err := dec.Decode(&pc.Change); err != nil {
			return nil, err
		}
		pc.Address = "output." + name
		if out, err = appendNormalized(out, pc); err != nil {
			return nil, err
		}
	}
	return endSorted(dec, out)
}

// appendNormalized appends pc's Change to out, unless it is a no-op.
func appendNormalized(out []Change, pc planChange) ([]Change, error) {
	c, ok, err := normalize(pc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pc.Address, err)
	}
	if ok {
		out = append(out, c)
	}
	return out, nil
}

// endSorted reads the closing delimiter of a list of changes and sorts
// them by address.
func endSorted(dec *json.Decoder, out []Change) ([]Change, error) {
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// normalize turns one entry into a Change; ok is false for a no-op.
func normalize(pc planChange) (Change, bool, error) {
	acts := pc.Change.Actions
	if len(acts) == 0 || len(acts) == 1 && acts[0] == "no-op" {
		return Change{}, false, nil
	}
	var before, after, unknown, bSens, aSens any
	for _, p := range []struct {
		raw json.RawMessage
		v   *any
	}{{pc.Change.Before, &before}, {pc.Change.After, &after}, {pc.Change.AfterUnknown, &unknown}, {pc.Change.BeforeSensitive, &bSens}, {pc.Change.AfterSensitive, &aSens}} {
		if len(p.raw) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(p.raw))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			return Change{}, false, err
		}
	}
	// Where to stop descending: every path any mask marks (unknown after,
	// sensitive before or after) is digested as a whole, the same in
	// before and after, so both sides have the same paths.
	stops := map[string]bool{}
	sens := map[string]bool{}
	markStops(unknown, "", stops, nil)
	markStops(bSens, "", stops, sens)
	markStops(aSens, "", stops, sens)
	unknownAt := map[string]bool{}
	markStops(unknown, "", unknownAt, nil)
	bl, al := map[string]string{}, map[string]string{}
	flatten(before, "", stops, bl)
	if len(pc.Change.After) > 0 {
		flatten(after, "", stops, al)
	}
	for p := range unknownAt {
		al[p] = Unknown
	}
	c := Change{Address: pc.Address, Actions: append([]string(nil), acts...)}
	paths := make([]string, 0, len(bl)+len(al))
	for p := range bl {
		paths = append(paths, p)
	}
	for p := range al {
		if _, ok := bl[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, a := bl[p], al[p]
		if b == a && a != Unknown {
			continue // unchanged attributes never make a difference
		}
		c.Attrs = append(c.Attrs, Attr{Path: displayPath(p), Before: b, After: a, Sensitive: underAny(p, sens)})
	}
	return c, true, nil
}

// snapshot digests an unchanged resource's values (before: the same as
// after), stopping where the sensitivity masks say, as normalize does.
func snapshot(pc planChange) (Snapshot, error) {
	var before, bSens any
	for _, p := range []struct {
		raw json.RawMessage
		v   *any
	}{{pc.Change.Before, &before}, {pc.Change.BeforeSensitive, &bSens}} {
		if len(p.raw) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(p.raw))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			return Snapshot{}, err
		}
	}
	stops := map[string]bool{}
	markStops(bSens, "", stops, nil)
	leaves := map[string]string{}
	flatten(before, "", stops, leaves)
	snap := Snapshot{Address: pc.Address, Values: make(map[string]string, len(leaves))}
	for p, d := range leaves {
		snap.Values[displayPath(p)] = d
	}
	return snap, nil
}

// markStops adds the paths where mask is true (a whole value marked) to
// set, and to sens when given.
func markStops(mask any, path string, set, sens map[string]bool) {
	switch m := mask.(type) {
	case bool:
		if m {
			set[path] = true
			if sens != nil {
				sens[path] = true
			}
		}
	case map[string]any:
		for k, v := range m {
			markStops(v, path+"/"+escapeSegment(k), set, sens)
		}
	case []any:
		for i, v := range m {
			markStops(v, path+"/"+strconv.Itoa(i), set, sens)
		}
	}
}

// flatten records the digest of every leaf of v by path: scalars, null,
// empty objects and arrays, and whole values at a stop.
func flatten(v any, path string, stops map[string]bool, out map[string]string) {
	if stops[path] {
		out[path] = digest(v)
		return
	}
	switch m := v.(type) {
	case map[string]any:
		if len(m) == 0 {
			out[path] = digest(m)
		}
		for k, x := range m {
			flatten(x, path+"/"+escapeSegment(k), stops, out)
		}
	case []any:
		if len(m) == 0 {
			out[path] = digest(m)
		}
		for i, x := range m {
			flatten(x, path+"/"+strconv.Itoa(i), stops, out)
		}
	default:
		out[path] = digest(v)
	}
}

// escapeSegment escapes a path segment as JSON Pointer does.
func escapeSegment(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// displayPath keeps the top-level attribute name (a schema name) and
// digests the rest, which may hold values (map keys).
func displayPath(p string) string {
	if p == "" {
		return "(value)"
	}
	top, rest, nested := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !nested {
		return top
	}
	return top + "#" + digestBytes([]byte(rest))[:12]
}

// underAny reports whether p is at or under a path of set.
func underAny(p string, set map[string]bool) bool {
	for q := range set {
		if p == q || strings.HasPrefix(p, q+"/") || q == "" {
			return true
		}
	}
	return false
}
