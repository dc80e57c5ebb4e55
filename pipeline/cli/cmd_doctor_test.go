package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestDoctorCommand: on a push to the default branch doctor probes the
// apply job, prints a row per check and writes the step summary with the
// settings' sources.
func TestDoctorCommand(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state"), Table: memstore.NewTable("locks")})
	a.actions("push", "push.json")
	if code := a.run(args("doctor", "--dynamodb-table", "locks")...); code != 0 {
		t.Fatalf("exit %d: %s%s", code, a.stdout.String(), a.stderr.String())
	}
	out := a.stdout.String()
	for _, want := range []string{"bucket", "acme-state", "from --bucket", "OK    conditional create", "access: the apply lock item", "apply job", "doctor: "} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	sum := a.file("github_step_summary")
	for _, want := range []string{"### prstate doctor", "| stack | status | check | result | fix |", "✅ OK", "⚠️ WARN", "| `bucket` | `acme-state` | --bucket |", "(permissions of the apply job)"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if o := a.file("github_output"); !strings.Contains(o, "failures<<") {
		t.Errorf("outputs:\n%s", o)
	}
}

// TestDoctorCommandJSON prints the report as JSON.
func TestDoctorCommandJSON(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state")})
	if code := a.run(args("doctor", "--json", "--job", "ops")...); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	var got struct {
		OK     bool   `json:"ok"`
		Job    string `json:"job"`
		Stacks []struct {
			Key      string
			Settings []struct{ Name, Value, Source string }
			Rows     []struct{ Check, Status, Detail string }
		}
	}
	if err := json.Unmarshal(a.stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, a.stdout.String())
	}
	if !got.OK || got.Job != "ops" || len(got.Stacks) != 1 || got.Stacks[0].Key != "app/terraform.tfstate" || len(got.Stacks[0].Rows) == 0 {
		t.Fatalf("%+v", got)
	}
	if s := got.Stacks[0].Settings[0]; s.Name != "bucket" || s.Value != "acme-state" || s.Source != "--bucket" {
		t.Errorf("setting %+v", s)
	}
}

// wrongKeyTable is a lock table keyed by something else than LockID.
type wrongKeyTable struct{ *memstore.Table }

func (wrongKeyTable) DescribeKey(context.Context) (storage.TableSchema, error) {
	return storage.TableSchema{Status: "ACTIVE", HashKey: "id", HashKeyType: "S"}, nil
}

// TestDoctorCommandFails exits 2 with one line when a check fails.
func TestDoctorCommandFails(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state"), Table: wrongKeyTable{memstore.NewTable("locks")}})
	if code := a.run(args("doctor", "--dynamodb-table", "locks", "--job", "apply")...); code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, a.stderr.String())
	}
	if !strings.Contains(a.stdout.String(), "FAIL  table") || strings.TrimSpace(a.stderr.String()) != "prstate: doctor: 1 check failed (see the FAIL row)" {
		t.Fatalf("stdout:\n%s\nstderr: %s", a.stdout.String(), a.stderr.String())
	}
	if code := a.run(args("doctor", "--job", "deploy")...); code != 2 || !strings.Contains(a.stderr.String(), `unknown job "deploy"`) {
		t.Fatalf("unknown job: exit %d: %s", code, a.stderr.String())
	}
}

// TestDoctorCommandMoto: the AWS adapters on moto; a missing bucket is
// exit 2.
func TestDoctorCommandMoto(t *testing.T) {
	m := testenv.Moto(t)
	name := m.NewBucket(t, true)
	a := newTestApp(t, Store{Bucket: m.Bucket(t, name)})
	if code := a.run("doctor", "--bucket", name, "--key", "app/terraform.tfstate", "--job", "plan", "--pr", "7"); code != 0 {
		t.Fatalf("exit %d: %s%s", code, a.stdout.String(), a.stderr.String())
	}
	if out := a.stdout.String(); !strings.Contains(out, "app/pr-7/terraform.tfstate") || !strings.Contains(out, "OK    conditional delete") {
		t.Errorf("stdout:\n%s", out)
	}
	a = newTestApp(t, Store{Bucket: m.Bucket(t, "prstate-doctor-missing")})
	if code := a.run("doctor", "--bucket", "prstate-doctor-missing", "--key", "app/terraform.tfstate"); code != 2 {
		t.Fatalf("missing bucket: exit %d: %s%s", code, a.stdout.String(), a.stderr.String())
	}
	if !strings.Contains(a.stdout.String(), "does not exist") {
		t.Errorf("stdout:\n%s", a.stdout.String())
	}
}

// TestDoctorCommandSettingsSources: doctor prints the backend
// configuration as it was resolved, each setting with its source, and
// the endpoint the requests use: the block's, over the environment's, as
// in terraform.
func TestDoctorCommandSettingsSources(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state")})
	tf := "terraform {\n  backend \"s3\" {\n    bucket = \"acme-state\"\n    use_lockfile = true\n    endpoints = { s3 = \"http://block-s3\" }\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(a.dir, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	a.env["PRSTATE_REGION"] = "eu-west-1"
	a.env["AWS_ENDPOINT_URL_S3"] = "http://env-s3"
	if code := a.run("doctor", "--json", "--job", "plan", "--backend-config", "key=app/terraform.tfstate"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	var got struct {
		Stacks []struct {
			Settings []struct{ Name, Value, Source string }
		}
	}
	if err := json.Unmarshal(a.stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, a.stdout.String())
	}
	sources := map[string]string{}
	for _, s := range got.Stacks[0].Settings {
		sources[s.Name] = s.Value + " from " + s.Source
	}
	for name, want := range map[string]string{
		"bucket":       "acme-state from main.tf:3",
		"use_lockfile": "true from main.tf:4",
		"key":          "app/terraform.tfstate from backend-config key=app/terraform.tfstate",
		"region":       "eu-west-1 from PRSTATE_REGION",
		"workspace":    "default from default",
		"lock-backend": "s3 from the default (auto)",
		"S3 endpoint":  "http://block-s3 from the backend configuration (wins over AWS_ENDPOINT_URL_S3, as in terraform)",
	} {
		if sources[name] != want {
			t.Errorf("%s: %q, want %q", name, sources[name], want)
		}
	}
}
