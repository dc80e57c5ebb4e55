package plan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchResources is the size of the generated plan: 10,000 resource
// changes (the target: record and verify in under 2 s and 150 MB).
const benchResources = 10000

// writeBenchPlan writes a show -json document shaped like Terraform's:
// prior_state and planned_values holding every resource's values,
// configuration, and resource_changes with before/after/after_unknown/
// sensitivity masks; every resource changes one attribute, one in ten
// has a sensitive attribute, one in five an unknown after value.
func writeBenchPlan(tb testing.TB, path string, n int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(b)
	}
	values := func(i int, rev string) map[string]any {
		return map[string]any{
			"id": fmt.Sprintf("res-%06d", i), "input": map[string]any{"name": fmt.Sprintf("service-%d", i), "revision": rev, "replicas": i % 7},
			"tags":             map[string]any{"team": "platform", "env": "prod", "cost-center": fmt.Sprint(1000 + i%50), "owner": "octocat"},
			"triggers_replace": []any{"a", "b", fmt.Sprint(i % 3)},
			"output":           map[string]any{"endpoint": fmt.Sprintf("https://svc-%d.example.internal", i)},
		}
	}
	section := func(name string, rev string) {
		fmt.Fprintf(w, `,%q:{"values":{"root_module":{"resources":[`, name)
		for i := 0; i < n; i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			enc(map[string]any{"address": fmt.Sprintf("terraform_data.r%d", i), "mode": "managed", "type": "terraform_data", "name": fmt.Sprintf("r%d", i), "provider_name": "terraform.io/builtin/terraform", "schema_version": 0, "values": values(i, rev), "sensitive_values": map[string]any{}})
		}
		w.WriteString(`]}}}`)
	}
	w.WriteString(`{"format_version":"1.2","terraform_version":"1.11.0"`)
	section("prior_state", "1")
	section("planned_values", "2")
	w.WriteString(`,"resource_changes":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		unknown, sens := map[string]any{}, map[string]any{}
		after := values(i, "2")
		if i%5 == 0 {
			unknown["output"] = true
			delete(after, "output")
		}
		if i%10 == 0 {
			sens["input"] = map[string]any{"name": true}
		}
		enc(map[string]any{"address": fmt.Sprintf("terraform_data.r%d", i), "mode": "managed", "type": "terraform_data", "name": fmt.Sprintf("r%d", i), "provider_name": "terraform.io/builtin/terraform",
			"change": map[string]any{"actions": []string{"update"}, "before": values(i, "1"), "after": after, "after_unknown": unknown, "before_sensitive": sens, "after_sensitive": sens}})
	}
	w.WriteString(`],"configuration":{"root_module":{"resources":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		enc(map[string]any{"address": fmt.Sprintf("terraform_data.r%d", i), "mode": "managed", "type": "terraform_data", "name": fmt.Sprintf("r%d", i), "expressions": map[string]any{"input": map[string]any{"constant_value": "x"}}})
	}
	w.WriteString(`]}}}`)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// The child processes of the benchmark: each measures one way of reading
// the plan, in a process of its own so its peak RSS is its own.
const benchChildEnv = "PRSTATE_PLAN_BENCH_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(benchChildEnv); mode != "" {
		if err := benchChild(mode, os.Getenv("PRSTATE_PLAN_BENCH_FILE")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func benchChild(mode, path string) error {
	switch mode {
	case "record-verify":
		// Record: stream the PR's plan JSON into a change set and encode
		// the record as stored.
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		cs, err := ReadChangeSet(f)
		f.Close()
		if err != nil {
			return err
		}
		body, err := json.Marshal(Reviewed{PR: 1, HeadSHA: strings.Repeat("a", 40), Changes: cs})
		if err != nil {
			return err
		}
		cs = ChangeSet{} //nolint:ineffassign // drop the change set: verify works from the stored record alone
		// Verify: load the record, stream the apply-time plan, compare.
		var rec Reviewed
		if err := json.Unmarshal(body, &rec); err != nil {
			return err
		}
		f, err = os.Open(path)
		if err != nil {
			return err
		}
		now, err := ReadChangeSet(f)
		f.Close()
		if err != nil {
			return err
		}
		v := Verify(now, []ReviewedPR{{PR: 1, HeadSHA: rec.HeadSHA, AtHead: true, Record: &rec}}, StateRef{})
		if !v.Matches || len(now.Resources) != benchResources {
			return fmt.Errorf("verify: matches %v, %d resources", v.Matches, len(now.Resources))
		}
		fmt.Printf("record %d bytes\n", len(body))
	case "unmarshal":
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if len(m["resource_changes"].([]any)) != benchResources {
			return fmt.Errorf("unmarshal: %d resources", len(m["resource_changes"].([]any)))
		}
	}
	return nil
}

// runBenchChild runs one child and returns its wall time and peak RSS.
func runBenchChild(b *testing.B, mode, path string) (time.Duration, float64, string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+mode, "PRSTATE_PLAN_BENCH_FILE="+path)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", mode, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, float64(ru.Maxrss) / 1024, strings.TrimSpace(string(out)) // Linux: KiB
}

// BenchmarkReviewedPlan10k records and verifies a generated plan JSON of
// 10,000 resource changes (the target: under 2 s and 150 MB),
// beside reading the same file with json.Unmarshal into map[string]any,
// each in a process of its own (time includes the process start).
func BenchmarkReviewedPlan10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "plan.json")
	size := writeBenchPlan(b, path, benchResources)
	for i := 0; i < b.N; i++ {
		rvTime, rvRSS, rvOut := runBenchChild(b, "record-verify", path)
		umTime, umRSS, _ := runBenchChild(b, "unmarshal", path)
		b.ReportMetric(rvTime.Seconds(), "record+verify-s")
		b.ReportMetric(rvRSS, "record+verify-peak-MB")
		b.ReportMetric(umTime.Seconds(), "unmarshal-s")
		b.ReportMetric(umRSS, "unmarshal-peak-MB")
		b.Logf("plan JSON %.1f MB, %d resource changes; %s", float64(size)/1e6, benchResources, rvOut)
		b.Logf("record + verify (stream, both plans):  %6.2f s  peak RSS %6.1f MB", rvTime.Seconds(), rvRSS)
		b.Logf("json.Unmarshal into map[string]any:    %6.2f s  peak RSS %6.1f MB", umTime.Seconds(), umRSS)
		if rvTime > 2*time.Second || rvRSS > 150 {
			b.Errorf("record + verify took %s and %.1f MB: over the 2 s / 150 MB target", rvTime, rvRSS)
		}
	}
}
