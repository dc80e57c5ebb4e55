package e2e

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/prstate/prstate/pipeline/statekey"
)

// gitlabJob is what this test runs of a job of examples/gitlab/.gitlab-ci.yml.
type gitlabJob struct {
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
	Rules     []struct {
		If   string `yaml:"if"`
		When string `yaml:"when"`
	} `yaml:"rules"`
	Environment struct {
		Name   string `yaml:"name"`
		OnStop string `yaml:"on_stop"`
		Action string `yaml:"action"`
	} `yaml:"environment"`
	Artifacts struct {
		Reports struct {
			Dotenv string `yaml:"dotenv"`
		} `yaml:"reports"`
	} `yaml:"artifacts"`
}

// gitlabExample parses the example: the global variables and the jobs.
func gitlabExample(t *testing.T) (map[string]string, map[string]gitlabJob) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "gitlab", ".gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	var vars map[string]string
	jobs := map[string]gitlabJob{}
	for name, node := range top {
		switch {
		case name == "variables":
			if err := node.Decode(&vars); err != nil {
				t.Fatal(err)
			}
		case name == "stages" || strings.HasPrefix(name, "."):
		default:
			var j gitlabJob
			if err := node.Decode(&j); err != nil {
				t.Fatalf("job %s: %v", name, err)
			}
			jobs[name] = j
		}
	}
	return vars, jobs
}

var ruleIf = regexp.MustCompile(`^\$(\w+) == (?:"([^"]*)"|\$(\w+))$`)

// runs tells whether GitLab starts the job by itself in the pipeline:
// its first rule that matches the pipeline's variables (the `$A == "x"`
// and `$A == $B` forms the example uses) is not `when: never` or
// `when: manual`.
func (j gitlabJob) runs(t *testing.T, ci map[string]string) bool {
	t.Helper()
	when := j.when(t, ci)
	return when != "" && when != "never" && when != "manual"
}

// when is the `when` of the job's first rule that matches the pipeline's
// variables ("on_success" when it says none), "" when none matches.
func (j gitlabJob) when(t *testing.T, ci map[string]string) string {
	t.Helper()
	for _, r := range j.Rules {
		m := ruleIf.FindStringSubmatch(r.If)
		if m == nil {
			t.Fatalf("rule %q: not a form this test evaluates", r.If)
		}
		want := m[2]
		if m[3] != "" {
			want = ci[m[3]]
		}
		if ci[m[1]] == want {
			if r.When == "" {
				return "on_success"
			}
			return r.When
		}
	}
	if len(j.Rules) == 0 {
		return "on_success"
	}
	return ""
}

// gitlabPipeline is the CI_* variables of a pipeline: a merge request's
// (iid > 0) or the default branch's.
func gitlabPipeline(iid int) map[string]string {
	ci := map[string]string{
		"GITLAB_CI": "true", "CI": "true", "CI_PROJECT_PATH": "acme/infra",
		"CI_SERVER_URL": "https://gitlab.example.com", "CI_DEFAULT_BRANCH": "main",
		"CI_PIPELINE_ID": "777", "CI_PIPELINE_URL": "https://gitlab.example.com/acme/infra/-/pipelines/777",
		"CI_COMMIT_SHA": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "GITLAB_USER_LOGIN": "dev",
	}
	if iid > 0 {
		ci["CI_PIPELINE_SOURCE"] = "merge_request_event"
		ci["CI_MERGE_REQUEST_IID"] = itoa(iid)
		ci["CI_COMMIT_REF_NAME"] = "feature"
	} else {
		ci["CI_PIPELINE_SOURCE"] = "push"
		ci["CI_COMMIT_BRANCH"] = "main"
		ci["CI_COMMIT_REF_NAME"] = "main"
	}
	return ci
}

// runGitLabJob runs the job's script lines in one sh, as the runner does
// (a cd stays in effect), from a fresh checkout of the project (the root
// module infra/main.tf) with the global and job variables, the pipeline's
// and extra (a dotenv of an earlier job). The before_script (download and
// install prstate) is replaced by the built binary on PATH. It returns the
// checkout.
func (s *stack) runGitLabJob(name string, j gitlabJob, vars, ci map[string]string, extra map[string]string) (string, error) {
	s.t.Helper()
	dir := s.t.TempDir()
	main, err := os.ReadFile(filepath.Join(s.dir, "main.tf"))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "infra"), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "infra", "main.tf"), main, 0o644); err != nil {
		s.t.Fatal(err)
	}
	script := "set -e\n" + strings.Join(j.Script, "\n") + "\n"
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	env := append(s.runnerEnv(), s.moto.Env()...)
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") })
	env = append(env, "PATH="+filepath.Dir(s.bin)+string(os.PathListSeparator)+filepath.Dir(s.tf)+string(os.PathListSeparator)+os.Getenv("PATH"))
	ci["CI_PROJECT_DIR"] = dir
	for _, m := range []map[string]string{vars, j.Variables, ci, extra} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	s.t.Logf("job %s:\n%s", name, out)
	return dir, err
}

// readDotenv reads a dotenv file as GitLab does for later jobs.
func readDotenv(t *testing.T, path string) map[string]string {
	t.Helper()
	return parseFileCommands(t, readFile(t, path))
}

// TestGitLabExample runs the scripts of examples/gitlab/.gitlab-ci.yml
// with prstate, terraform and moto: the default branch's pipeline applies
// production under the apply lock; a merge request's pipeline plans on the
// PR key seeded from production; a later job that gets the plan job's
// dotenv still plans on the PR key (outputs are not settings).
func TestGitLabExample(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockDynamoDB, true, "app")
	vars, jobs := gitlabExample(t)
	var runIn func(ci, extra map[string]string) map[string]string
	// run runs the pipeline's jobs; it returns the checkout of each.
	run := func(iid int, extra map[string]string) map[string]string {
		t.Helper()
		return runIn(gitlabPipeline(iid), extra)
	}
	runIn = func(ci map[string]string, extra map[string]string) map[string]string {
		t.Helper()
		iid := ci["CI_MERGE_REQUEST_IID"]
		ran := map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(jobs)) {
			j := jobs[name]
			if !j.runs(t, ci) {
				continue
			}
			dir, err := s.runGitLabJob(name, j, vars, ci, extra)
			if err != nil {
				t.Fatalf("job %s (pipeline of MR %q): exit %d", name, iid, exitCode(t, err))
			}
			ran[name] = dir
		}
		if len(ran) == 0 {
			t.Fatalf("no job of the example runs in the pipeline of MR %q", iid)
		}
		return ran
	}

	// The default branch: apply production, then the apply lock is free.
	run(0, nil)
	if _, ok := s.getObject(prodKey); !ok {
		t.Fatalf("the apply job wrote no production state: %v", s.objectKeys())
	}
	if _, ok := s.getItem(statekey.ApplyLockItemID(s.bucket, prodKey)); ok {
		t.Fatal("the apply lock is still held after the apply job")
	}
	if _, ok := s.getItem(statekey.LockItemID(s.bucket, prodKey)); ok {
		t.Fatal("terraform's lock of production is still held")
	}

	// A merge request: plan on the PR key.
	const prKey = "app/pr-42/terraform.tfstate"
	ran := run(42, nil)
	var dotenv, planDir string
	for name, dir := range ran {
		if r := jobs[name].Artifacts.Reports.Dotenv; r != "" {
			dotenv, planDir = filepath.Join(dir, r), dir
		}
	}
	if dotenv == "" {
		t.Fatal("no job of the merge request keeps a dotenv report")
	}
	outs := readDotenv(t, dotenv)
	if outs["PRSTATE_OUT_KEY"] != prKey || outs["PRSTATE_OUT_BACKEND_CONFIG"] != "prstate.s3.tfbackend" {
		t.Fatalf("dotenv %v", outs)
	}
	for k := range outs {
		if !strings.HasPrefix(k, "PRSTATE_OUT_") {
			t.Errorf("dotenv %s shares the settings' namespace", k)
		}
	}
	if cfg := backendConfigInDataDir(t, filepath.Join(planDir, "infra", ".terraform")); cfg["key"] != prKey {
		t.Fatalf("terraform init used key %v, want %s", cfg["key"], prKey)
	}
	// The seed brought production's state to the PR key.
	if _, ok := s.getObject(prKey); !ok {
		t.Fatalf("no seeded PR state: %v", s.objectKeys())
	}

	// A later job of the same pipeline gets the dotenv as variables.
	for name, dir := range run(42, outs) {
		if jobs[name].Artifacts.Reports.Dotenv == "" {
			continue
		}
		if cfg := backendConfigInDataDir(t, filepath.Join(dir, "infra", ".terraform")); cfg["key"] != prKey {
			t.Fatalf("with the dotenv, terraform init used key %v, want %s", cfg["key"], prKey)
		}
	}
	for _, k := range s.objectKeys() {
		if strings.Contains(k, "pr-42/pr-42") {
			t.Fatalf("a PR key of a PR key: %s", k)
		}
	}

	// The plan job recorded the reviewed plan at the merge request's
	// commit; the merge's apply (its commit message names the merge
	// request) verifies against it under the apply lock.
	if _, ok := s.getObject(statekey.ReviewedPlanKey(prKey, gitlabPipeline(42)["CI_COMMIT_SHA"])); !ok {
		t.Fatalf("no reviewed plan recorded: %v", s.objectKeys())
	}
	merged := run(0, map[string]string{"CI_COMMIT_MESSAGE": "Merge branch 'feature' into 'main'\n\nSee merge request acme/infra!42"})
	if outs := readDotenv(t, filepath.Join(merged["apply"], "prstate.env")); outs["PRSTATE_OUT_PLAN_MATCHES"] != "true" || outs["PRSTATE_OUT_PLAN_PRS"] != "42" {
		t.Fatalf("verify-plan in the apply job: %v", outs)
	}

	// The merge request is merged: GitLab runs the stop job of the plan
	// job's environment, which removes the PR state, its digest and its
	// lock items.
	var stop string
	for _, j := range jobs {
		if j.runs(t, gitlabPipeline(42)) && j.Environment.OnStop != "" {
			stop = j.Environment.OnStop
		}
	}
	sj, ok := jobs[stop]
	if !ok || sj.Environment.Action != "stop" || sj.when(t, gitlabPipeline(42)) != "manual" {
		t.Fatalf("the merge request's jobs name no manual stop job (on_stop %q)", stop)
	}
	if _, err := s.runGitLabJob(stop, sj, vars, gitlabPipeline(42), nil); err != nil {
		t.Fatalf("job %s: exit %d", stop, exitCode(t, err))
	}
	if _, ok := s.getObject(prKey); ok {
		t.Fatalf("the stop job left the PR state: %v", s.objectKeys())
	}
	for _, id := range []string{statekey.DigestID(s.bucket, prKey), statekey.LockItemID(s.bucket, prKey)} {
		if _, ok := s.getItem(id); ok {
			t.Fatalf("the stop job left item %s", id)
		}
	}
	if _, ok := s.getObject(prodKey); !ok {
		t.Fatal("the stop job removed production's state")
	}

	// A scheduled pipeline sweeps, and does not apply.
	sched := gitlabPipeline(0)
	sched["CI_PIPELINE_SOURCE"] = "schedule"
	swept := runIn(sched, nil)
	for name := range swept {
		if !strings.Contains(strings.Join(jobs[name].Script, "\n"), "prstate sweep") {
			t.Errorf("job %s runs in a scheduled pipeline", name)
		}
	}
	if len(swept) != 1 {
		t.Fatalf("scheduled pipeline ran %v, want the sweep job alone", slices.Sorted(maps.Keys(swept)))
	}
}
