package plan

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// planJSON builds a show -json document with the given resource_changes.
func planJSON(t *testing.T, changes ...map[string]any) string {
	t.Helper()
	doc := map[string]any{
		"format_version":    "1.2",
		"terraform_version": "1.11.0",
		"planned_values":    map[string]any{"root_module": map[string]any{}},
		"resource_changes":  changes,
		"prior_state":       map[string]any{"values": map[string]any{"root_module": map[string]any{}}},
		"configuration":     map[string]any{"root_module": map[string]any{}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rc(addr string, actions []string, before, after any, extra map[string]any) map[string]any {
	ch := map[string]any{"actions": actions, "before": before, "after": after, "after_unknown": map[string]any{}, "before_sensitive": false, "after_sensitive": false}
	for k, v := range extra {
		ch[k] = v
	}
	return map[string]any{"address": addr, "mode": "managed", "type": "terraform_data", "name": "x", "change": ch}
}

func read(t *testing.T, doc string) ChangeSet {
	t.Helper()
	cs, err := ReadChangeSet(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestReadChangeSetKeepsOnlyChanges(t *testing.T) {
	cs := read(t, planJSON(t,
		rc("terraform_data.same", []string{"no-op"}, map[string]any{"input": "a"}, map[string]any{"input": "a"}, nil),
		rc("terraform_data.upd", []string{"update"}, map[string]any{"input": "v1", "id": "1", "big": map[string]any{"k": "same"}}, map[string]any{"input": "v2", "id": "1", "big": map[string]any{"k": "same"}}, nil),
		rc("terraform_data.new", []string{"create"}, nil, map[string]any{"input": "n", "id": nil}, map[string]any{"after_unknown": map[string]any{"id": true}}),
	))
	if cs.Version != "1.11.0" || cs.Format != "1.2" {
		t.Fatalf("version %q format %q", cs.Version, cs.Format)
	}
	if len(cs.Resources) != 2 || cs.Resources[0].Address != "terraform_data.new" || cs.Resources[1].Address != "terraform_data.upd" {
		t.Fatalf("resources: %+v", cs.Resources)
	}
	upd := cs.Resources[1]
	if len(upd.Attrs) != 1 || upd.Attrs[0].Path != "input" || upd.Attrs[0].Before == "" || upd.Attrs[0].After == "" || upd.Attrs[0].Before == upd.Attrs[0].After {
		t.Fatalf("update attrs: %+v (unchanged attributes must not appear)", upd.Attrs)
	}
	var id *Attr
	for i, a := range cs.Resources[0].Attrs {
		if a.Path == "id" {
			id = &cs.Resources[0].Attrs[i]
		}
	}
	if id == nil || id.After != Unknown {
		t.Fatalf("unknown id: %+v", cs.Resources[0].Attrs)
	}
}

// An apply that would undo another PR's change differs from the review:
// reviewed v1 -> v2, now v3 -> v2.
func TestVerifyCatchesUndo(t *testing.T) {
	reviewed := read(t, planJSON(t, rc("terraform_data.a", []string{"update"}, map[string]any{"input": "v1"}, map[string]any{"input": "v2"}, nil)))
	now := read(t, planJSON(t, rc("terraform_data.a", []string{"update"}, map[string]any{"input": "v3"}, map[string]any{"input": "v2"}, nil)))
	same := read(t, planJSON(t, rc("terraform_data.a", []string{"update"}, map[string]any{"input": "v1"}, map[string]any{"input": "v2"}, nil)))
	pr := []ReviewedPR{{PR: 12, HeadSHA: strings.Repeat("a", 40), AtHead: true, Record: &Reviewed{PR: 12, Changes: reviewed}}}
	if v := Verify(same, pr, StateRef{}); !v.Matches {
		t.Fatalf("same plan: %+v", v.Differences)
	}
	v := Verify(now, pr, StateRef{})
	if v.Matches || len(v.Differences) != 1 || v.Differences[0].Kind != ValuesDiffer || strings.Join(v.Differences[0].Attrs, ",") != "input (before)" {
		t.Fatalf("undo not caught: %+v", v)
	}
}

func TestVerifyKinds(t *testing.T) {
	a := rc("terraform_data.a", []string{"create"}, nil, map[string]any{"input": "x"}, nil)
	b := rc("terraform_data.b", []string{"update"}, map[string]any{"input": "1"}, map[string]any{"input": "2"}, nil)
	bDel := rc("terraform_data.b", []string{"delete"}, map[string]any{"input": "1"}, nil, nil)
	c := rc("terraform_data.c", []string{"create"}, nil, map[string]any{"input": "y"}, nil)
	r1 := &Reviewed{PR: 1, Changes: read(t, planJSON(t, a, b))}
	r2 := &Reviewed{PR: 2, Changes: read(t, planJSON(t, b))}
	now := read(t, planJSON(t, bDel, c))
	v := Verify(now, []ReviewedPR{{PR: 1, AtHead: true, Record: r1}, {PR: 2, AtHead: true, Record: r2}, {PR: 3}}, StateRef{})
	got := map[string]DiffKind{}
	for _, d := range v.Differences {
		got[d.Address] = d.Kind
	}
	want := map[string]DiffKind{"terraform_data.a": NotPlannedNow, "terraform_data.b": sharedMismatch, "terraform_data.c": NeverReviewed}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	if v.Matches || len(v.Unplanned()) != 1 || v.Unplanned()[0].PR != 3 {
		t.Fatalf("unplanned: %+v", v.Unplanned())
	}
	// Two PRs changing one address with the same actions: said, compared by actions only.
	v = Verify(read(t, planJSON(t, a, rc("terraform_data.b", []string{"update"}, map[string]any{"input": "9"}, map[string]any{"input": "2"}, nil))),
		[]ReviewedPR{{PR: 1, AtHead: true, Record: r1}, {PR: 2, AtHead: true, Record: r2}}, StateRef{})
	if !v.Matches || len(v.Shared) != 1 || v.Shared[0].Address != "terraform_data.b" {
		t.Fatalf("shared: %+v", v)
	}
}

func TestSensitiveValuesNeverInRecord(t *testing.T) {
	secret := "hunter2-very-secret"
	cs := read(t, planJSON(t, rc("terraform_data.s", []string{"update"},
		map[string]any{"input": map[string]any{"password": "old-" + secret, secret: "k"}}, map[string]any{"input": map[string]any{"password": secret, secret: "k2"}},
		map[string]any{"before_sensitive": map[string]any{"input": map[string]any{"password": true}}, "after_sensitive": map[string]any{"input": map[string]any{"password": true}}})))
	b, _ := json.Marshal(cs)
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "password") {
		t.Fatalf("record holds a value in clear: %s", b)
	}
	sens := 0
	for _, a := range cs.Resources[0].Attrs {
		if a.Sensitive {
			sens++
		}
	}
	if len(cs.Resources[0].Attrs) != 2 || sens != 1 {
		t.Fatalf("attrs: %+v", cs.Resources[0].Attrs)
	}
}

func TestReadChangeSetOutputsDriftAndBadInput(t *testing.T) {
	doc := `{"format_version":"1.2","terraform_version":"1.11.0",
"resource_drift":[{"address":"terraform_data.d","mode":"managed","change":{"actions":["update"],"before":{"input":"a"},"after":{"input":"b"}}}],
"resource_changes":[{"address":"data.x.y","mode":"data","change":{"actions":["read"]}}],
"output_changes":{"o":{"actions":["update"],"before":"1","after":"2","after_unknown":false},"same":{"actions":["no-op"],"before":"1","after":"1"}}}`
	cs := read(t, doc)
	if len(cs.Resources) != 0 || len(cs.Drift) != 1 || len(cs.Outputs) != 1 || cs.Outputs[0].Address != "output.o" {
		t.Fatalf("%+v", cs)
	}
	for _, bad := range []string{"", "[]", `{"resource_changes":[]}`, `{"format_version":"1.2","resource_changes":{`} {
		if _, err := ReadChangeSet(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// An out-of-band change on production since the plan, which the apply
// puts back to what the review saw unchanged, is drift, not a mismatch;
// a change to other values is never reviewed.
func TestVerifyOutOfBandRestoreIsDrift(t *testing.T) {
	reviewed := read(t, planJSON(t,
		rc("terraform_data.a", []string{"no-op"}, map[string]any{"input": "v1", "output": "v1"}, map[string]any{"input": "v1", "output": "v1"}, nil),
		rc("terraform_data.c", []string{"create"}, nil, map[string]any{"input": "c"}, nil)))
	pr := []ReviewedPR{{PR: 5, AtHead: true, Record: &Reviewed{PR: 5, Changes: reviewed}}}
	restore := rc("terraform_data.a", []string{"update"}, map[string]any{"input": "oob", "output": "oob"}, map[string]any{"input": "v1", "output": nil}, map[string]any{"after_unknown": map[string]any{"output": true}})
	c := rc("terraform_data.c", []string{"create"}, nil, map[string]any{"input": "c"}, nil)
	v := Verify(read(t, planJSON(t, restore, c)), pr, StateRef{})
	if !v.Matches || len(v.Restored) != 1 {
		t.Fatalf("restore: %+v", v)
	}
	other := rc("terraform_data.a", []string{"update"}, map[string]any{"input": "oob"}, map[string]any{"input": "v9"}, nil)
	if v := Verify(read(t, planJSON(t, other, c)), pr, StateRef{}); v.Matches || v.Differences[0].Kind != NeverReviewed {
		t.Fatalf("other: %+v", v)
	}
}

// FuzzReadChangeSet: any input either fails or yields a change set that
// keeps of the plan's values only digests: every before, after and
// snapshot value is a 32-hex digest, "unknown" or empty (addresses,
// actions, attribute names and the version are not values).
func FuzzReadChangeSet(f *testing.F) {
	f.Add(`{"format_version":"1.2","resource_changes":[{"address":"a.b","mode":"managed","change":{"actions":["update"],"before":{"x":"SECRETVALUE"},"after":{"x":"SECRETVALUE2"}}}]}`)
	f.Add(`{"format_version":"1.2","output_changes":{"o":{"actions":["create"],"before":null,"after":"SECRETVALUE","after_unknown":false}}}`)
	f.Add(`{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"actions":["no-op"],"before":{"m":{"k":["SECRETVALUE"]}},"before_sensitive":{"m":true}}}]}`)
	digestOK := func(s string) bool {
		if s == "" || s == Unknown {
			return true
		}
		if len(s) != 32 {
			return false
		}
		_, err := hex.DecodeString(s)
		return err == nil
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cs, err := ReadChangeSet(strings.NewReader(doc))
		if err != nil {
			return
		}
		for _, list := range [][]Change{cs.Resources, cs.Outputs, cs.Drift} {
			for _, c := range list {
				for _, a := range c.Attrs {
					if !digestOK(a.Before) || !digestOK(a.After) {
						t.Fatalf("%s %s: not a digest: %q -> %q", c.Address, a.Path, a.Before, a.After)
					}
					if _, nested, ok := strings.Cut(a.Path, "#"); ok && (len(nested) != 12 || !digestOK(nested+strings.Repeat("0", 20))) {
						t.Fatalf("nested path kept in clear: %q", a.Path)
					}
				}
			}
		}
		for _, s := range cs.Unchanged {
			for p, v := range s.Values {
				if !digestOK(v) {
					t.Fatalf("%s %s: not a digest: %q", s.Address, p, v)
				}
			}
		}
		again, err := ReadChangeSet(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("not deterministic: %v", err)
		}
		a, _ := json.Marshal(cs)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}

// A resource deleted out of band since the plan, created again as the
// review saw it, is drift too.
func TestVerifyOutOfBandDeleteIsDrift(t *testing.T) {
	reviewed := read(t, planJSON(t, rc("terraform_data.a", []string{"no-op"}, map[string]any{"input": "v1", "id": "x"}, map[string]any{"input": "v1", "id": "x"}, nil)))
	pr := []ReviewedPR{{PR: 5, AtHead: true, Record: &Reviewed{PR: 5, Changes: reviewed}}}
	create := rc("terraform_data.a", []string{"create"}, nil, map[string]any{"input": "v1", "id": nil}, map[string]any{"after_unknown": map[string]any{"id": true}})
	if v := Verify(read(t, planJSON(t, create)), pr, StateRef{}); !v.Matches || len(v.Restored) != 1 {
		t.Fatalf("%+v", v)
	}
	other := rc("terraform_data.a", []string{"create"}, nil, map[string]any{"input": "v2", "id": nil}, map[string]any{"after_unknown": map[string]any{"id": true}})
	if v := Verify(read(t, planJSON(t, other)), pr, StateRef{}); v.Matches {
		t.Fatalf("%+v", v)
	}
}
