package doctor_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

const stateKey = "app/terraform.tfstate"

// target is a stack on key of bucket (and table, when not nil).
func target(t *testing.T, bucket storage.Bucket, table storage.Table, lockBackend string) doctor.Target {
	t.Helper()
	keys, err := statekey.NewKeys(stateKey, statekey.DefaultKeyTemplate)
	if err != nil {
		t.Fatal(err)
	}
	b := backend.Backend{Bucket: bucket.Name(), Key: stateKey}
	tg := doctor.Target{Label: "app", Stack: statekey.Stack{Dir: "/repo/app", Backend: b, Keys: keys}, LockBackend: lockBackend, Bucket: bucket}
	if table != nil {
		tg.Stack.Backend.DynamoDBTable = table.Name()
		tg.Table = table
	}
	return tg
}

// run checks one target and logs the report as people see it.
func run(t *testing.T, tg doctor.Target, o doctor.Options) doctor.Report {
	t.Helper()
	rep, err := doctor.Run(t.Context(), []doctor.Target{tg}, o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := doctor.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("doctor:\n%s", b.String())
	return rep
}

// row returns the first row of check; it fails the test without one.
func row(t *testing.T, rep doctor.Report, check string) doctor.Row {
	t.Helper()
	for _, r := range rep.Stacks[0].Rows {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %q row", check)
	return doctor.Row{}
}

// want checks a row's status and that its detail has every part.
func want(t *testing.T, rep doctor.Report, check string, s doctor.Status, parts ...string) doctor.Row {
	t.Helper()
	r := row(t, rep, check)
	if r.Status != s {
		t.Errorf("%s: %s %q (fix %q), want %s", check, r.Status, r.Detail, r.Fix, s)
	}
	for _, p := range parts {
		if !strings.Contains(r.Detail, p) {
			t.Errorf("%s: %q lacks %q", check, r.Detail, p)
		}
	}
	return r
}

// failures lists the FAIL rows.
func failures(rep doctor.Report) []string {
	var out []string
	for _, st := range rep.Stacks {
		for _, r := range st.Rows {
			if r.Status == doctor.Fail {
				out = append(out, r.Check+": "+r.Detail)
			}
		}
	}
	return out
}

// versions lists every version and delete marker in the bucket as
// "key version", for a before/after comparison.
func versions(t *testing.T, b storage.Bucket) []string {
	t.Helper()
	vs, err := b.ListObjectVersions(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.Key+" "+v.VersionID)
	}
	slices.Sort(out)
	return out
}
