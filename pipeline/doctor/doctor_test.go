package doctor_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/doctor"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestDoctorMemstore: every check runs on the in-memory store, each job's
// probes are allowed, and nothing but the scratch object is written (and
// it is gone afterwards).
func TestDoctorMemstore(t *testing.T) {
	t.Parallel()
	for _, job := range iam.Jobs {
		t.Run(string(job), func(t *testing.T) {
			t.Parallel()
			b, tbl := memstore.NewBucket("acme-state"), memstore.NewTable("locks")
			if _, err := b.PutObject(t.Context(), stateKey, []byte(`{"serial":1}`), storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			before := versions(t, b)
			rep := run(t, target(t, b, tbl, "dynamodb"), doctor.Options{Job: job, Seed: true})
			if f := failures(rep); len(f) > 0 {
				t.Fatalf("failures: %v", f)
			}
			want(t, rep, "conditional create", doctor.OK)
			want(t, rep, "conditional replace", doctor.OK)
			want(t, rep, "conditional delete", doctor.OK)
			want(t, rep, "table", doctor.OK, "LockID")
			want(t, rep, "versioning", doctor.OK)
			want(t, rep, "lifecycle", doctor.Warn, "noncurrent")
			want(t, rep, "clock", doctor.OK)
			want(t, rep, "permissions", doctor.OK, string(job))
			if after := versions(t, b); !slices.Equal(before, after) {
				t.Fatalf("doctor changed the bucket:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestDoctorClockSkew: above 30s the clock row warns, above 5m it fails.
func TestDoctorClockSkew(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		skew time.Duration
		want doctor.Status
	}{{0, doctor.OK}, {-2 * time.Minute, doctor.Warn}, {10 * time.Minute, doctor.Fail}} {
		b := memstore.NewBucket("acme-state")
		now := func() time.Time { return time.Now().Add(c.skew) }
		rep := run(t, target(t, b, nil, "s3"), doctor.Options{Job: iam.JobApply, Now: now})
		want(t, rep, "clock", c.want)
		if rep.Failed() != (c.want == doctor.Fail) {
			t.Errorf("skew %s: Failed() = %v", c.skew, rep.Failed())
		}
	}
}

// wrongKeyTable is a lock table keyed by something else than LockID.
type wrongKeyTable struct{ *memstore.Table }

func (wrongKeyTable) DescribeKey(context.Context) (storage.TableSchema, error) {
	return storage.TableSchema{Status: "ACTIVE", HashKey: "id", HashKeyType: "N"}, nil
}

// TestDoctorWrongTableKeyMemstore: the table row fails and no item is probed.
func TestDoctorWrongTableKeyMemstore(t *testing.T) {
	t.Parallel()
	rep := run(t, target(t, memstore.NewBucket("acme-state"), wrongKeyTable{memstore.NewTable("locks")}, "dynamodb"), doctor.Options{Job: iam.JobApply})
	r := want(t, rep, "table", doctor.Fail, `partition key id (type N)`, "LockID")
	if !strings.Contains(r.Fix, "LockID of type String") {
		t.Errorf("fix %q", r.Fix)
	}
	for _, r := range rep.Stacks[0].Rows {
		if strings.HasPrefix(r.Check, "dynamodb:") && r.Status == doctor.OK {
			t.Errorf("probed a table of the wrong shape: %+v", r)
		}
	}
}

// TestDoctorProbeNames: each job probes the names the commands use.
func TestDoctorProbeNames(t *testing.T) {
	t.Parallel()
	tg := target(t, memstore.NewBucket("acme-state"), memstore.NewTable("locks"), "dynamodb")
	rep := run(t, tg, doctor.Options{Job: iam.JobPlan, PR: 42})
	want(t, rep, "access: the PR state", doctor.OK, "s3:GetObject, s3:PutObject on s3://acme-state/app/pr-42/terraform.tfstate")
	want(t, rep, "access: the PR lock item", doctor.OK, "item acme-state/app/pr-42/terraform.tfstate of table locks")
	rep = run(t, tg, doctor.Options{Job: iam.JobApply})
	want(t, rep, "access: the apply lock item", doctor.OK, statekey.ApplyLockItemID("acme-state", stateKey))
	want(t, rep, "access: the ledger item", doctor.OK, statekey.LedgerItemID("acme-state", stateKey))
	for _, r := range rep.Stacks[0].Rows {
		if strings.Contains(r.Detail, "pr-") {
			t.Errorf("the apply job probed a PR name: %+v", r)
		}
	}
	rep = run(t, tg, doctor.Options{Job: iam.JobCleanup})
	want(t, rep, "permissions", doctor.OK, "not probed", "s3:DeleteObjectVersion")
}

// TestDoctorJSON: statuses are words and "ok" says whether anything failed.
func TestDoctorJSON(t *testing.T) {
	t.Parallel()
	rep := run(t, target(t, memstore.NewBucket("acme-state"), nil, "s3"), doctor.Options{Job: iam.JobOps})
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK     bool `json:"ok"`
		Stacks []struct {
			Rows []struct{ Check, Status string }
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if !got.OK || len(got.Stacks) != 1 || got.Stacks[0].Rows[0].Status != "OK" {
		t.Fatalf("JSON %s", raw)
	}
}

// TestDoctorUnknownJob is a usage error.
func TestDoctorUnknownJob(t *testing.T) {
	t.Parallel()
	_, err := doctor.Run(t.Context(), nil, doctor.Options{Job: "deploy"})
	if err == nil || !strings.Contains(err.Error(), `unknown job "deploy"`) {
		t.Fatalf("err %v", err)
	}
}

// TestDoctorTextEscapes: what a server said reaches the terminal on one
// line, without control or bidi characters.
func TestDoctorTextEscapes(t *testing.T) {
	t.Parallel()
	rep := doctor.Report{Stacks: []doctor.StackReport{{Stack: "app", Bucket: "b", Key: "k", Rows: []doctor.Row{{Check: "bucket", Status: doctor.Fail, Detail: "bad\x1b[31m\n::error::x\u202e"}}}}}
	var b strings.Builder
	if err := doctor.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\u202e") || strings.Contains(out, "\n::error::") {
		t.Fatalf("unescaped: %q", out)
	}
}
