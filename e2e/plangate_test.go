package e2e

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
)

// gateSecret is a sensitive variable's value: it must appear in no
// record, log, summary or comment.
const gateSecret = "s3cr3t-Value-0f-the-PR-9b1f"

// gate drives the reviewed-plan gate's proofs: PR plan jobs (the action's
// main step, terraform init/plan/show -json, the post step that records)
// and apply jobs (lock, terraform plan/show -json, verify-plan, apply
// unless it failed, the post step that releases), the binary as the
// Actions runner runs it, terraform against moto, GitHub faked.
type gate struct {
	t    *testing.T
	s    *stack
	fake *githubfake.Server
	// seen is every step's stdout, stderr and summary, for the secret grep.
	seen []string
}

func sha(name string) string { h := sha1.Sum([]byte(name)); return hex.EncodeToString(h[:]) }

// config is main.tf's resources: name -> input ("var.token" is the
// sensitive variable).
type config map[string]string

func (c config) with(kv ...string) config {
	out := config{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (g *gate) write(c config) {
	g.t.Helper()
	s := g.s
	settings := []string{fmt.Sprintf("bucket = %q", s.bucket), fmt.Sprintf("dynamodb_table = %q", s.table), fmt.Sprintf("key = %q", prodKey)}
	var b strings.Builder
	b.WriteString(testenv.TerraformBackend(s.moto.Endpoint, settings...))
	b.WriteString("\nvariable \"token\" {\n  type      = string\n  sensitive = true\n}\n")
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := c[n]
		if v != "var.token" {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, "\nresource \"terraform_data\" %q {\n  input = %s\n}\n", n, v)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "main.tf"), []byte(b.String()), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

var tfVars = []string{"TF_VAR_token=" + gateSecret}

// showJSON writes `terraform show -json tfplan` to the root module's file.
func (g *gate) showJSON(data string, env []string, file string) {
	g.t.Helper()
	cmd := exec.CommandContext(g.t.Context(), g.s.tf, "show", "-json", "tfplan")
	cmd.Dir = g.s.dir
	cmd.Env = append(append(g.s.runnerEnv(), "TF_DATA_DIR="+data), env...)
	out, err := cmd.Output()
	if err != nil {
		g.t.Fatalf("terraform show -json: %v", err)
	}
	if err := os.WriteFile(filepath.Join(g.s.dir, file), out, 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gate) keep(r actionResult) actionResult {
	g.seen = append(g.seen, r.stdout, r.stderr, r.summary, r.rawOutput)
	return r
}

// planPR is a PR's plan job at commit head (base: the PR's base commit).
func (g *gate) planPR(pr int, head, base string, c config) actionResult {
	g.t.Helper()
	g.write(c)
	ev := editPayload(g.t, prEvent(g.t, "synchronize", pr), func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["sha"] = head
		p["pull_request"].(map[string]any)["base"].(map[string]any)["sha"] = base
	})
	j := job{runID: fmt.Sprint(5000 + pr), sha: head, api: g.fake.URL}
	inputs := map[string]string{"working-directory": "infra", "seed": "production", "plan-json": "plan.json", "comment": "true"}
	main := g.keep(g.s.action(j, ev, inputs, nil))
	main.mustSucceed(g.t)
	data := filepath.Join(g.t.TempDir(), "tf-pr")
	env := append(main.exportedEnv(), tfVars...)
	g.s.mustTerraform(data, env, "init")
	g.s.mustTerraform(data, env, "plan", "-out=tfplan", "-lock-timeout=30s")
	g.showJSON(data, env, "plan.json")
	post := g.keep(g.s.action(j, ev, inputs, main.state))
	post.mustSucceed(g.t)
	if !strings.Contains(post.stderr, fmt.Sprintf("reviewed plan of #%d at %s recorded", pr, head)) {
		g.t.Fatalf("post step did not record the plan:\n%s", post.stderr)
	}
	return post
}

// merge adds a merge commit of pr's head onto parent, the pull request
// (merged, its final head) for each commit, and moves main.
func (g *gate) merge(pr int, merge, parent string, heads ...string) {
	final := heads[len(heads)-1]
	g.fake.AddCommit(merge, parent, final)
	prev := parent
	for _, h := range heads {
		g.fake.AddCommit(h, prev)
		prev = h
	}
	p := githubfake.Pull{Number: pr, State: "closed", Merged: true, MergeCommitSHA: merge, HeadSHA: final}
	for _, c := range append([]string{merge}, heads...) {
		g.fake.SetPullsForCommit(c, p)
	}
	g.fake.AddPulls(p)
	g.fake.SetBranch("main", merge)
}

// applyJob is the merge's apply job; verify (nil: no verify-plan step)
// are verify-plan's inputs. It returns verify-plan's result and whether
// terraform applied.
func (g *gate) apply(commit, before string, c config, verify map[string]string) (actionResult, bool) {
	g.t.Helper()
	g.write(c)
	j := job{runID: "7" + commit[:6], sha: commit, api: g.fake.URL}
	ev := pushPayload(g.t, before, commit)
	lockIn := map[string]string{"working-directory": "infra", "command": "lock"}
	lock := g.keep(g.s.action(j, ev, lockIn, nil))
	lock.mustSucceed(g.t)
	data := filepath.Join(g.t.TempDir(), "tf-apply")
	g.s.mustTerraform(data, tfVars, "init")
	g.s.mustTerraform(data, tfVars, "plan", "-out=tfplan", "-lock-timeout=30s")
	var v actionResult
	applied := false
	if verify != nil {
		g.showJSON(data, tfVars, "apply.json")
		in := map[string]string{"working-directory": "infra", "command": "verify-plan", "plan-json": "apply.json"}
		for k, x := range verify {
			in[k] = x
		}
		v = g.keep(g.s.action(j, ev, in, nil))
		g.t.Logf("verify-plan at %s (exit %d):\n%s\n%s", commit[:7], v.code, v.stderr, v.summary)
	}
	if v.code == 0 {
		g.s.mustTerraform(data, tfVars, "apply", "-lock-timeout=30s", "tfplan")
		applied = true
	}
	post := g.keep(g.s.action(j, ev, lockIn, lock.state))
	post.mustSucceed(g.t)
	return v, applied
}

func (g *gate) serial() int64 {
	g.t.Helper()
	obj, ok := g.s.getObject(prodKey)
	if !ok {
		g.t.Fatal("no production state")
	}
	var st struct {
		Serial int64 `json:"serial"`
	}
	if err := json.Unmarshal(obj.Body, &st); err != nil {
		g.t.Fatal(err)
	}
	return st.Serial
}

func (g *gate) productionInput(name string) string {
	g.t.Helper()
	obj, _ := g.s.getObject(prodKey)
	var st struct {
		Resources []struct {
			Name      string `json:"name"`
			Instances []struct {
				Attributes struct {
					Input any `json:"input"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(obj.Body, &st); err != nil {
		g.t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Name == name && len(r.Instances) == 1 {
			in := r.Instances[0].Attributes.Input
			if m, ok := in.(map[string]any); ok { // a dynamic value: {type, value}
				in = m["value"]
			}
			return fmt.Sprint(in)
		}
	}
	return ""
}

func wantOutput(t *testing.T, r actionResult, name, want string) {
	t.Helper()
	if got := r.outputs[name]; got != want {
		t.Fatalf("output %s = %q, want %q\nstderr: %s\nsummary: %s", name, got, want, r.stderr, r.summary)
	}
}

func wantIn(t *testing.T, where, what string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(where, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, where)
		}
	}
}

// TestReviewedPlanGate proves the gate with real terraform on moto and
// GitHub faked: (1) a PR merged alone applies exactly what was reviewed;
// (2) two PRs, one coalesced apply, match the union; (4) an out-of-band
// change on production is drift, not a mismatch; (5) a PR pushed after
// its last plan is "not planned at its final commit"; (3) two PRs change
// one attribute: the second's record, made before the first applied,
// differs (values, serial N then N+1) and on-plan-change: fail stops the
// apply; (6) the sensitive variable's value is in no record, log,
// summary or comment.
//
// It runs with terraform and with OpenTofu, one after the other.
func TestReviewedPlanGate(t *testing.T) {
	testenv.SkipShort(t, "terraform, tofu and moto")
	t.Parallel()
	for _, cli := range testenv.TerraformBinaries(t) {
		t.Run(cli.Name, func(t *testing.T) { reviewedPlanGate(t, cli) })
	}
}

func reviewedPlanGate(t *testing.T, cli testenv.TerraformCLI) {
	g := &gate{t: t, s: newStackFor(t, cli, lockDynamoDB, true)}
	g.fake = githubfake.New(t, "acme/infra")
	g.fake.Token = fakeToken
	g.fake.AnyRun = "completed"

	// Production applied at c0.
	base := config{"a": "a"}
	c0 := sha("c0")
	g.fake.AddCommit(c0)
	g.fake.SetBranch("main", c0)
	g.apply(c0, strings.Repeat("0", 40), base, nil)

	// (1) PR 12 adds resources (one with the sensitive variable), merged alone.
	cfg12 := base.with("b", "b", "secret", "var.token")
	g.planPR(12, sha("h12"), c0, cfg12)
	g.merge(12, sha("m12"), c0, sha("h12"))
	v, applied := g.apply(sha("m12"), c0, cfg12, map[string]string{})
	wantOutput(t, v, "plan-matches", "true")
	wantOutput(t, v, "plan-prs", "12")
	wantIn(t, v.summary, "summary (1)", `applies exactly what was reviewed in \#12`)
	if !applied {
		t.Fatal("(1) not applied")
	}
	t.Logf("PROOF 1 summary:\n%s", v.summary)

	// (2) PRs 20 and 21 change different resources; one apply brings both.
	cfg20, cfg21 := cfg12.with("c", "c"), cfg12.with("d", "d")
	g.planPR(20, sha("h20"), sha("m12"), cfg20)
	g.planPR(21, sha("h21"), sha("m12"), cfg21)
	g.merge(20, sha("m20"), sha("m12"), sha("h20"))
	g.merge(21, sha("m21"), sha("m20"), sha("h21"))
	cfgM21 := cfg12.with("c", "c", "d", "d")
	v, _ = g.apply(sha("m21"), sha("m20"), cfgM21, map[string]string{})
	wantOutput(t, v, "plan-matches", "true")
	wantOutput(t, v, "plan-prs", "20,21")
	wantIn(t, v.summary, "summary (2)", `applies exactly what was reviewed in \#20, \#21`)

	// (4) PR 15 adds e, planned; then b is changed out of band by a
	// direct apply on production; the merge's apply puts b back.
	cfg15 := cfgM21.with("e", "e")
	g.planPR(15, sha("h15"), sha("m21"), cfg15)
	g.write(cfgM21.with("b", "out-of-band"))
	oob := filepath.Join(t.TempDir(), "tf-oob")
	g.s.mustTerraform(oob, tfVars, "init")
	g.s.mustTerraform(oob, tfVars, "apply", "-auto-approve", "-lock-timeout=30s")
	g.merge(15, sha("m15"), sha("m21"), sha("h15"))
	v, _ = g.apply(sha("m15"), sha("m21"), cfg15, map[string]string{})
	wantOutput(t, v, "plan-matches", "true")
	wantIn(t, v.summary, "summary (4)", "Drift", "`terraform_data.b`", `applies exactly what was reviewed in \#15`)
	if g.productionInput("b") != "b" {
		t.Fatalf("(4) b = %q after the apply", g.productionInput("b"))
	}
	t.Logf("PROOF 4 summary:\n%s", v.summary)

	// (5) PR 16 planned at one commit, pushed another, merged.
	cfg16 := cfg15.with("f", "f")
	g.planPR(16, sha("h16a"), sha("m15"), cfg16)
	g.merge(16, sha("m16"), sha("m15"), sha("h16a"), sha("h16b"))
	v, _ = g.apply(sha("m16"), sha("m15"), cfg16, map[string]string{})
	wantOutput(t, v, "plan-matches", "false")
	wantIn(t, v.summary, "summary (5)", "not planned at its final commit")
	if v.code != 0 || !strings.Contains(v.stderr, "::warning::") {
		t.Fatalf("(5) on-plan-change warn: exit %d, no warning:\n%s", v.code, v.stderr)
	}

	// (3) PRs 13 and 14 change a's input; 13 applies first; 14's record,
	// planned before, differs; with on-plan-change: fail nothing applies.
	planned := g.serial()
	g.planPR(13, sha("h13"), sha("m16"), cfg16.with("a", "v13"))
	g.planPR(14, sha("h14"), sha("m16"), cfg16.with("a", "v14"))
	g.merge(13, sha("m13"), sha("m16"), sha("h13"))
	v, _ = g.apply(sha("m13"), sha("m16"), cfg16.with("a", "v13"), map[string]string{"on-plan-change": "fail"})
	wantOutput(t, v, "plan-matches", "true")
	g.merge(14, sha("m14"), sha("m13"), sha("h14"))
	before := g.serial()
	v, applied = g.apply(sha("m14"), sha("m13"), cfg16.with("a", "v14"), map[string]string{"on-plan-change": "fail"})
	wantOutput(t, v, "plan-matches", "false")
	wantOutput(t, v, "plan-prs", "14")
	if v.code != 1 || applied {
		t.Fatalf("(3) on-plan-change fail: exit %d, applied %v", v.code, applied)
	}
	wantIn(t, v.summary, "summary (3)", "`terraform_data.a`", "different values", "input (before)",
		fmt.Sprintf("planned at serial %d, production now at serial %d", planned, before))
	if before != planned+1 {
		t.Errorf("(3) production serial %d, want %d (one apply since the plans)", before, planned+1)
	}
	if got := g.productionInput("a"); got != "v13" || g.serial() != before {
		t.Fatalf("(3) something was applied: a = %q, serial %d", got, g.serial())
	}
	t.Logf("PROOF 3 summary:\n%s", v.summary)

	// (6) The sensitive value: in no record, log, summary or comment.
	for _, k := range g.s.objectKeys() {
		if !strings.Contains(k, ".prstate-plan/") {
			continue
		}
		obj, _ := g.s.getObject(k)
		if strings.Contains(string(obj.Body), gateSecret) {
			t.Errorf("record %s holds the sensitive value", k)
		}
	}
	for _, s := range g.seen {
		if strings.Contains(s, gateSecret) {
			t.Errorf("a step printed the sensitive value:\n%s", s)
		}
	}
	for _, pr := range []int{12, 13, 14, 15, 16, 20, 21} {
		for _, c := range g.fake.Comments(pr) {
			if strings.Contains(c.Body, gateSecret) {
				t.Errorf("comment on #%d holds the sensitive value", pr)
			}
		}
	}
	if cs := g.fake.Comments(12); len(cs) == 0 || !strings.Contains(cs[len(cs)-1].Body, "`terraform_data.secret`") {
		t.Errorf("PR 12's comment has no change table: %+v", cs)
	}
	// The plan JSON itself does hold it (so the grep can fail).
	if raw, _ := os.ReadFile(filepath.Join(g.s.dir, "plan.json")); !strings.Contains(string(raw), gateSecret) {
		t.Error("terraform's plan JSON does not hold the sensitive value: the grep above proves nothing")
	}
}
