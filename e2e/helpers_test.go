package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// prodKey is the production state key every stack here uses.
const prodKey = "app/terraform.tfstate"

// fakeToken stands in for ${{ github.token }}: it must never be printed.
const fakeToken = "ghs_e2eFakeToken0123456789abcdefABCDEF"

// lockMode is how Terraform locks the stack's state.
type lockMode string

const (
	lockDynamoDB lockMode = "dynamodb_table"
	lockS3       lockMode = "use_lockfile"
)

// stack is one repository checkout on a runner: the workspace (where the
// prstate container starts) with a Terraform root module in infra/, its own
// bucket and, with lockDynamoDB, its own table.
type stack struct {
	t      *testing.T
	moto   *testenv.MotoServer
	tf     string // terraform or tofu binary
	tool   string // "terraform" or "tofu"
	bin    string // prstate binary
	root   string // GITHUB_WORKSPACE
	dir    string // root/infra: the root module, where terraform runs
	home   string
	bucket string
	table  string // "" with lockS3
	mode   lockMode
	// unset lists runner variables the next prstate steps do not get
	// (runners that lack some file commands).
	unset map[string]bool
	// backendExtra is more of the backend block (e.g. encrypt, kms_key_id),
	// set before writeConfig.
	backendExtra string
	// extraEnv is more of the next prstate steps' environment (KEY=value):
	// a job's env (TF_WORKSPACE), a post step's STATE_* variables.
	extraEnv []string
}

// newStack creates the bucket (versioned, as production buckets are) and
// the table, and writes infra/main.tf with resources (terraform_data names).
// The backend block carries what a team keeps in the repository (key,
// region, endpoints, the lock setting); blockHasAll also puts the bucket
// and table there, otherwise they come from action inputs and -backend-config.
func newStack(t *testing.T, mode lockMode, blockHasAll bool, resources ...string) *stack {
	t.Helper()
	return newStackFor(t, testenv.TerraformCLI{Name: "terraform", Path: testenv.Terraform(t)}, mode, blockHasAll, resources...)
}

// newStackFor is newStack run with cli (terraform or tofu).
func newStackFor(t *testing.T, cli testenv.TerraformCLI, mode lockMode, blockHasAll bool, resources ...string) *stack {
	t.Helper()
	m := testenv.Moto(t)
	s := &stack{t: t, moto: m, tf: cli.Path, tool: cli.Name, bin: testenv.Binary(t), root: t.TempDir(), home: t.TempDir(), mode: mode}
	s.dir = filepath.Join(s.root, "infra")
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.bucket = m.NewBucket(t, true)
	if mode == lockDynamoDB {
		s.table = m.NewTable(t)
	}
	s.writeConfig(blockHasAll, resources...)
	// An empty CLI config: no plugin cache, no credentials helpers, no
	// warning about a missing ~/.terraformrc.
	if err := os.WriteFile(filepath.Join(s.home, ".terraformrc"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *stack) writeConfig(blockHasAll bool, resources ...string) {
	s.t.Helper()
	var settings []string
	if blockHasAll {
		settings = append(settings, fmt.Sprintf("bucket = %q", s.bucket))
		if s.table != "" {
			settings = append(settings, fmt.Sprintf("dynamodb_table = %q", s.table))
		}
	}
	settings = append(settings, fmt.Sprintf("key = %q", prodKey))
	if s.mode == lockS3 {
		settings = append(settings, "use_lockfile = true")
	}
	settings = append(settings, strings.TrimSpace(s.backendExtra))
	var b strings.Builder
	b.WriteString(testenv.TerraformBackend(s.moto.Endpoint, settings...))
	for _, r := range resources {
		fmt.Fprintf(&b, "\nresource \"terraform_data\" %q {\n  input = %q\n}\n", r, r)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "main.tf"), []byte(b.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// runnerEnv is what every process on the runner sees: credentials but no
// AWS endpoint or region variables (prstate and terraform both take them
// from the backend block), and nothing from the developer's environment.
func (s *stack) runnerEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + s.home, "TMPDIR=" + os.TempDir(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"TF_CLI_CONFIG_FILE=" + filepath.Join(s.home, ".terraformrc"),
		"TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
	}
}

// event is a GitHub event: its name, a payload file and GITHUB_REF.
type event struct {
	name    string
	payload string // path
	ref     string // GITHUB_REF; refs/heads/main when empty
}

// prEvent writes a pull_request payload for pr, shaped like GitHub's
// (testdata/events/pull_request_opened.json with the number and action set).
func prEvent(t *testing.T, action string, pr int) event {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "events", "pull_request_opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	p["action"], p["number"] = action, pr
	prObj := p["pull_request"].(map[string]any)
	prObj["number"] = pr
	prObj["url"] = fmt.Sprintf("https://api.github.com/repos/acme/infra/pulls/%d", pr)
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("pull_request_%s_%d.json", action, pr))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return event{name: "pull_request", payload: path, ref: fmt.Sprintf("refs/pull/%d/merge", pr)}
}

// testdataEvent is a payload from testdata/events as it is.
func testdataEvent(t *testing.T, name, file, ref string) event {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	return event{name: name, payload: abs, ref: ref}
}

// step is one prstate step's result: what the runner would see.
type step struct {
	code           int
	stdout, stderr string
	outputs, env   map[string]string
	state          map[string]string // GITHUB_STATE: what the post step gets as STATE_*
	rawOutput      string
	rawEnv         string
	summary        string
}

// exportedEnv is what the step wrote to GITHUB_ENV, as the runner sets it
// in every later step of the job.
func (st step) exportedEnv() []string {
	var env []string
	for k, v := range st.env {
		env = append(env, k+"="+v)
	}
	return env
}

// inputEnv is every input of action.yml as INPUT_<NAME> (hyphens kept),
// with its default unless inputs sets it.
func (s *stack) inputEnv(inputs map[string]string) []string {
	s.t.Helper()
	defaults := actionDefaults(s.t)
	for name := range inputs {
		if _, ok := defaults[name]; !ok {
			s.t.Fatalf("input %q is not in action.yml", name)
		}
	}
	var env []string
	for name, def := range defaults {
		if v, ok := inputs[name]; ok {
			def = v
		}
		env = append(env, "INPUT_"+strings.ToUpper(name)+"="+def)
	}
	return env
}

// createFileCommands creates the file-command files empty in dir, as the
// runner does before a step.
func (s *stack) createFileCommands(dir string) {
	s.t.Helper()
	for _, f := range []string{"output", "env", "state", "summary", "path"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// prstate runs the binary the way the Actions runner runs the container:
// every input of action.yml as INPUT_<NAME> (hyphens kept) with its
// default unless inputs sets it, GITHUB_* variables, fresh file-command
// files, the workspace as working directory, no arguments.
func (s *stack) prstate(ev event, inputs map[string]string) step {
	s.t.Helper()
	files := s.t.TempDir()
	env := s.runnerEnv()
	ref := ev.ref
	if ref == "" {
		ref = "refs/heads/main"
	}
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": ev.name, "GITHUB_EVENT_PATH": ev.payload,
		"GITHUB_WORKSPACE": s.root, "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_SHA": "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912", "GITHUB_REF": ref,
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_ACTOR": "octocat",
		"GITHUB_OUTPUT": filepath.Join(files, "output"), "GITHUB_ENV": filepath.Join(files, "env"),
		"GITHUB_STATE": filepath.Join(files, "state"), "GITHUB_STEP_SUMMARY": filepath.Join(files, "summary"),
		"GITHUB_PATH": filepath.Join(files, "path"),
	} {
		if !s.unset[k] {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, s.inputEnv(inputs)...)
	env = append(env, s.extraEnv...)
	s.createFileCommands(files)
	cmd := exec.CommandContext(s.t.Context(), s.bin)
	cmd.Dir, cmd.Env = s.root, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	s.t.Logf("prstate: %s", time.Since(start).Round(time.Millisecond))
	var st step
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		st.code = ee.ExitCode()
	case err != nil:
		s.t.Fatalf("failed to run prstate: %v", err)
	}
	st.stdout, st.stderr = stdout.String(), stderr.String()
	st.rawOutput = readFile(s.t, filepath.Join(files, "output"))
	st.rawEnv = readFile(s.t, filepath.Join(files, "env"))
	st.summary = readFile(s.t, filepath.Join(files, "summary"))
	st.outputs = parseFileCommands(s.t, st.rawOutput)
	st.env = parseFileCommands(s.t, st.rawEnv)
	st.state = parseFileCommands(s.t, readFile(s.t, filepath.Join(files, "state")))
	// stderr is for prstate's own progress and diagnostics: no SDK logging.
	if strings.Contains(st.stderr, "SDK ") {
		s.t.Errorf("the AWS SDK logged to stderr:\n%s", st.stderr)
	}
	for _, where := range []string{st.stdout, withoutMaskCommands(st.stderr), st.rawOutput, st.rawEnv, st.summary} {
		if strings.Contains(where, fakeToken) {
			s.t.Errorf("the GitHub token was printed:\n%s", where)
		}
	}
	return st
}

// withoutMaskCommands drops ::add-mask:: workflow commands: the runner
// consumes them (they are how a secret gets masked) and never shows them.
func withoutMaskCommands(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// mustPrstate runs prstate for ev and fails the test unless it exits 0.
func (s *stack) mustPrstate(ev event, inputs map[string]string) step {
	s.t.Helper()
	st := s.prstate(ev, inputs)
	if st.code != 0 {
		s.t.Fatalf("prstate exit %d\nstdout: %s\nstderr: %s", st.code, st.stdout, st.stderr)
	}
	return st
}

// actionDefaults reads the inputs of ../action.yml and their defaults, the
// values the runner passes when a workflow does not set an input.
func actionDefaults(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defs := map[string]string{}
	in, name := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "inputs:":
			in = true
		case in && line != "" && !strings.HasPrefix(line, " "):
			in = false
		case in && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(line, ":"):
			name = strings.TrimSuffix(strings.TrimSpace(line), ":")
			defs[name] = ""
		case in && name != "" && strings.HasPrefix(strings.TrimSpace(line), "default:"):
			v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "default:"))
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			if v == "${{ github.token }}" {
				v = fakeToken
			}
			defs[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(defs) < 5 {
		t.Fatalf("found only %d inputs in action.yml", len(defs))
	}
	return defs
}

// parseFileCommands reads GITHUB_OUTPUT / GITHUB_ENV content.
func parseFileCommands(t *testing.T, s string) map[string]string {
	t.Helper()
	out, err := runner.ParseFileCommands(s)
	if err != nil {
		t.Fatalf("%v in:\n%s", err, s)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// terraform runs terraform in the root module with its own data directory
// (one per job: dataDir) and extra environment (KEY=value).
//
// One failure is retried: terraform's DynamoDB lock is a conditional
// PutItem that its SDK retries after a lost answer or a 5xx; when the
// server had applied the first attempt, the retry fails on terraform's own
// new lock and the command exits 1 leaving that lock behind (seen once on
// moto under a loaded CI machine). Only a lock created after this command
// started, by this tool's version, is taken as its own: it is released
// with force-unlock (what a user would do) and the command runs once more.
// A lock held before the command started is never touched, so a test
// that expects terraform to meet a held lock still sees it fail.
func (s *stack) terraform(dataDir string, extraEnv []string, args ...string) (string, error) {
	s.t.Helper()
	start := time.Now()
	out, err := s.terraformOnce(dataDir, extraEnv, args...)
	if err != nil {
		if id, ok := testenv.OwnOrphanLock(out, args[0], start); ok {
			s.t.Logf("%s %s met its own lock %s (a retried lock request): force-unlock and run once more", s.tool, args[0], id)
			if fout, ferr := s.terraformOnce(dataDir, extraEnv, "force-unlock", "-force", id); ferr != nil {
				s.t.Fatalf("terraform force-unlock: %v\n%s", ferr, fout)
			}
			out, err = s.terraformOnce(dataDir, extraEnv, args...)
		}
	}
	return out, err
}

// terraformOnce is terraform with no retry.
func (s *stack) terraformOnce(dataDir string, extraEnv []string, args ...string) (string, error) {
	s.t.Helper()
	cmd := exec.CommandContext(s.t.Context(), s.tf, append(args[:1:1], append([]string{"-no-color"}, args[1:]...)...)...)
	if args[0] == "workspace" || args[0] == "state" { // -no-color goes after the subcommand's subcommand
		cmd = exec.CommandContext(s.t.Context(), s.tf, append(args[:2:2], append([]string{"-no-color"}, args[2:]...)...)...)
	}
	cmd.Dir = s.dir
	cmd.Env = append(append(s.runnerEnv(), "TF_DATA_DIR="+dataDir), extraEnv...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	s.t.Logf("%s %s: %s", s.tool, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return string(out), err
}

// mustTerraform is terraform that fails the test on a non-zero exit.
func (s *stack) mustTerraform(dataDir string, extraEnv []string, args ...string) string {
	s.t.Helper()
	out, err := s.terraform(dataDir, extraEnv, args...)
	if err != nil {
		s.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// initProduction is `terraform init` of a job on the production key: a
// partial backend block gets the bucket and table on the command line.
func (s *stack) initProduction(dataDir string, blockHasAll bool) {
	s.t.Helper()
	args := []string{"init", "-reconfigure"}
	if !blockHasAll {
		args = append(args, "-backend-config=bucket="+s.bucket)
		if s.table != "" {
			args = append(args, "-backend-config=dynamodb_table="+s.table)
		}
	}
	s.mustTerraform(dataDir, nil, args...)
}

// applyProduction is the merge job: init on the production key, apply.
func (s *stack) applyProduction(blockHasAll bool) {
	s.t.Helper()
	data := filepath.Join(s.t.TempDir(), "tf-prod")
	s.initProduction(data, blockHasAll)
	out := s.mustTerraform(data, nil, "apply", "-auto-approve", "-lock-timeout=0s")
	if !strings.Contains(out, "Apply complete!") {
		s.t.Fatalf("production apply:\n%s", out)
	}
}

func (s *stack) bucketStore() storage.Bucket { return s.moto.Bucket(s.t, s.bucket) }

func (s *stack) tableStore() storage.Table {
	if s.table == "" {
		return nil
	}
	return s.moto.Table(s.t, s.table)
}

// getObject reads key; ok is false when it does not exist.
func (s *stack) getObject(key string) (storage.Object, bool) {
	s.t.Helper()
	obj, err := s.bucketStore().GetObject(s.t.Context(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Object{}, false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return obj, true
}

// getItem reads a table item; ok is false when it does not exist.
func (s *stack) getItem(id string) (storage.Item, bool) {
	s.t.Helper()
	it, err := s.tableStore().GetItem(s.t.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return it, true
}

// holdProductionLock takes production's Terraform state lock the way a
// running `terraform apply` holds it, and returns the lock record.
func (s *stack) holdProductionLock() applylock.LockInfo { return s.holdLock(prodKey) }

// holdLock takes key's Terraform state lock as terraform does.
func (s *stack) holdLock(key string) applylock.LockInfo {
	s.t.Helper()
	li := applylock.LockInfo{
		ID: applylock.NewLockID(), Operation: "OperationTypeApply", Who: "runner@fv-az1234-567",
		Version: "1.11.4", Created: time.Now().UTC(), Path: s.bucket + "/" + key,
	}
	ctx := s.t.Context()
	var err error
	if s.mode == lockDynamoDB {
		err = s.tableStore().PutItem(ctx, storage.Item{storage.KeyAttr: statekey.LockItemID(s.bucket, key), "Info": string(li.Marshal())}, storage.Condition{Absent: true})
	} else {
		_, err = s.bucketStore().PutObject(ctx, key+".tflock", li.Marshal(), storage.PutOptions{IfNoneMatch: true})
	}
	if err != nil {
		s.t.Fatalf("failed to take the lock of %s: %v", key, err)
	}
	return li
}

// releaseLock removes a lock holdLock took.
func (s *stack) releaseLock(key string) {
	s.t.Helper()
	ctx := s.t.Context()
	var err error
	if s.mode == lockDynamoDB {
		err = s.tableStore().DeleteItem(ctx, statekey.LockItemID(s.bucket, key), storage.Condition{})
	} else {
		err = s.bucketStore().DeleteObject(ctx, key+".tflock", "")
	}
	if err != nil {
		s.t.Fatalf("failed to release the lock of %s: %v", key, err)
	}
}

// snapshot is everything Terraform keeps for one key: every object version
// under the key (state and .tflock), the current bodies, and the lock and
// digest items.
type snapshot struct {
	Versions []string
	Bodies   map[string]string
	Items    map[string]storage.Item
}

func (s *stack) snapshot(key string) snapshot {
	s.t.Helper()
	ctx := s.t.Context()
	snap := snapshot{Bodies: map[string]string{}, Items: map[string]storage.Item{}}
	vs, err := s.bucketStore().ListObjectVersions(ctx, key)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, v := range vs {
		if v.Key != key && v.Key != key+".tflock" {
			continue
		}
		snap.Versions = append(snap.Versions, fmt.Sprintf("%s@%s delete=%v latest=%v size=%d at=%s", v.Key, v.VersionID, v.DeleteMarker, v.IsLatest, v.Size, v.LastModified.Format(time.RFC3339Nano)))
	}
	sort.Strings(snap.Versions)
	for _, k := range []string{key, key + ".tflock"} {
		if obj, ok := s.getObject(k); ok {
			snap.Bodies[k] = obj.ETag + " " + string(obj.Body)
		}
	}
	if s.table != "" {
		for _, id := range []string{statekey.LockItemID(s.bucket, key), statekey.DigestID(s.bucket, key)} {
			if it, ok := s.getItem(id); ok {
				snap.Items[id] = it
			}
		}
	}
	return snap
}

func (a snapshot) String() string {
	b, _ := json.MarshalIndent(a, "", "  ")
	return string(b)
}

// objectKeys lists every key in the bucket that has any version.
func (s *stack) objectKeys() []string {
	s.t.Helper()
	vs, err := s.bucketStore().ListObjectVersions(s.t.Context(), "")
	if err != nil {
		s.t.Fatal(err)
	}
	seen := map[string]bool{}
	var keys []string
	for _, v := range vs {
		if !seen[v.Key] {
			seen[v.Key] = true
			keys = append(keys, v.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

// itemIDs lists every LockID in the table.
func (s *stack) itemIDs() []string {
	s.t.Helper()
	if s.table == "" {
		return nil
	}
	items, err := s.tableStore().ScanItems(s.t.Context(), "")
	if err != nil {
		s.t.Fatal(err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it[storage.KeyAttr])
	}
	sort.Strings(ids)
	return ids
}

// backendConfigInDataDir is the backend configuration terraform init
// recorded in its data directory: what the later commands use.
func backendConfigInDataDir(t *testing.T, dataDir string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("terraform init left no backend record: %v", err)
	}
	var rec struct {
		Backend struct {
			Type   string         `json:"type"`
			Config map[string]any `json:"config"`
		} `json:"backend"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Backend.Type != "s3" {
		t.Fatalf("backend type %q", rec.Backend.Type)
	}
	return rec.Backend.Config
}

// exitCode is a finished command's exit code (err from Run or Output).
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("failed to run: %v", err)
	return -1
}

func itoa(n int) string { return strconv.Itoa(n) }
