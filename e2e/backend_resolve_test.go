package e2e

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// These tests run the real terraform and the real tofu against moto and
// check, each time, which state object the binary used (its record in the
// data directory, and the objects in the bucket) and that prstate
// resolved the same backend: the production key it prints for a push,
// and the PR key whose file init then configures.

const prKey42 = "app/pr-42/terraform.tfstate"

// binStack is a stack driven by one binary: terraform or tofu.
type binStack struct {
	*stack
	bin string
	cli testenv.TerraformCLI
}

// newBinStack is newStack (bucket, S3 lockfile) with cli as the binary
// and the working directory's configuration files replaced by files
// (name, content, ...). The block's moto settings are motoSettings.
func newBinStack(t *testing.T, cli testenv.TerraformCLI, files ...string) *binStack {
	t.Helper()
	s := newStack(t, lockS3, true)
	s.tf = cli.Path
	b := &binStack{stack: s, bin: cli.Name, cli: cli}
	if err := os.Remove(filepath.Join(s.dir, "main.tf")); err != nil {
		t.Fatal(err)
	}
	b.writeFiles(files...)
	return b
}

// writeFiles writes the files (name, content, ...) into the working
// directory.
func (b *binStack) writeFiles(files ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(files); i += 2 {
		b.write(files[i], files[i+1])
	}
}

func (b *binStack) write(name, content string) {
	b.t.Helper()
	if err := os.WriteFile(filepath.Join(b.dir, name), []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// motoSettings are the backend arguments that reach moto, one per line.
func (b *binStack) motoSettings() string {
	return fmt.Sprintf(`region                      = "us-east-1"
endpoints                   = { s3 = %q, dynamodb = %q }
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
use_lockfile                = true
`, b.moto.Endpoint, b.moto.Endpoint)
}

// prodFile is a prod.s3.tfbackend: everything production's init needs.
func (b *binStack) prodFile() string {
	return fmt.Sprintf("bucket = %q\nkey    = %q\n", b.bucket, prodKey) + b.motoSettings()
}

// backendTF is a terraform block whose backend "s3" block puts the state
// at key in the stack's bucket on moto.
func (b *binStack) backendTF(key string) string {
	return "terraform {\n  backend \"s3\" {\n" + fmt.Sprintf("bucket = %q\nkey = %q\n", b.bucket, key) + b.motoSettings() + "}\n}\n"
}

// mainTF is backendTF(key) and one resource.
func (b *binStack) mainTF(key string) string { return b.backendTF(key) + "\n" + resourceApp }

const resourceApp = "resource \"terraform_data\" \"app\" {\n  input = \"app\"\n}\n"

const emptyBlockTF = "terraform {\n  backend \"s3\" {}\n}\n\n" + resourceApp

// tf runs the stack's binary with the environment testenv gives it.
func (b *binStack) tf(dataDir string, env []string, args ...string) (string, error) {
	b.t.Helper()
	return b.terraform(dataDir, append(b.cli.Env(), env...), args...)
}

func (b *binStack) mustTF(dataDir string, env []string, args ...string) string {
	b.t.Helper()
	out, err := b.tf(dataDir, env, args...)
	if err != nil {
		b.t.Fatalf("%s %s: %v\n%s", b.bin, strings.Join(args, " "), err, out)
	}
	return out
}

// applyWith is production's merge job: init with args, apply; it returns
// the key init recorded.
func (b *binStack) applyWith(dataDir string, env []string, initArgs ...string) string {
	b.t.Helper()
	b.mustTF(dataDir, env, append([]string{"init", "-reconfigure"}, initArgs...)...)
	if out := b.mustTF(dataDir, env, "apply", "-auto-approve", "-lock-timeout=0s"); !strings.Contains(out, "Apply complete!") {
		b.t.Fatalf("apply:\n%s", out)
	}
	return recordedKey(b.t, dataDir)
}

func recordedKey(t *testing.T, dataDir string) string {
	t.Helper()
	k, _ := backendConfigInDataDir(t, dataDir)["key"].(string)
	return k
}

// productionKey is what prstate resolves as production's state object:
// the key command on a push to the default branch.
func (b *binStack) productionKey(inputs map[string]string) string {
	b.t.Helper()
	in := merged(map[string]string{"command": "key", "working-directory": "infra"}, inputs)
	st := b.mustPrstate(testdataEvent(b.t, "push", "push.json", "refs/heads/main"), in)
	return strings.TrimSpace(st.stdout)
}

// plan is prstate's PR step for PR 42.
func (b *binStack) plan(inputs map[string]string) step {
	b.t.Helper()
	return b.mustPrstate(prEvent(b.t, "opened", 42), merged(map[string]string{"command": "plan", "working-directory": "infra", "export-env": "false"}, inputs))
}

// planOnPRKey inits with the PR file alone in a fresh data directory
// (after removing every other backend-config file), checks that init
// recorded want and that the plan of the seeded state shows no changes:
// terraform read the object prstate seeded.
func (b *binStack) planOnPRKey(st step, env []string, want string) {
	b.t.Helper()
	if st.outputs["backend-config"] != "prstate.s3.tfbackend" {
		b.t.Fatalf("backend-config output %q", st.outputs["backend-config"])
	}
	for _, f := range []string{"prod.s3.tfbackend"} {
		_ = os.Remove(filepath.Join(b.dir, f))
	}
	data := filepath.Join(b.t.TempDir(), "tf-pr")
	b.mustTF(data, env, "init", "-backend-config=prstate.s3.tfbackend")
	if got := recordedKey(b.t, data); got != want {
		b.t.Fatalf("%s init with the PR file recorded key %q, want %q\nfile:\n%s", b.bin, got, want, readFile(b.t, filepath.Join(b.dir, "prstate.s3.tfbackend")))
	}
	out, err := b.tf(data, env, "plan", "-detailed-exitcode", "-lock-timeout=0s")
	if code := exitCode(b.t, err); code != 0 || !strings.Contains(out, "No changes.") {
		b.t.Errorf("%s plan on the seeded PR state: exit %d\n%s", b.bin, code, out)
	}
	b.initAlone(env, want)
}

// initAlone copies the PR file into a new root module whose block is
// empty (backend "s3" {}) and inits there with it alone: it holds every
// setting, moto's custom endpoints included (the runner has no AWS
// endpoint variables).
func (b *binStack) initAlone(env []string, want string) {
	b.t.Helper()
	dir := filepath.Join(b.t.TempDir(), "alone")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	file := readFile(b.t, filepath.Join(b.dir, "prstate.s3.tfbackend"))
	for name, content := range map[string]string{"main.tf": emptyBlockTF, "prstate.s3.tfbackend": file} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	data := filepath.Join(dir, ".terraform")
	run := func(args ...string) string {
		cmd := exec.CommandContext(b.t.Context(), b.cli.Path, append([]string{args[0], "-no-color"}, args[1:]...)...)
		cmd.Dir = dir
		cmd.Env = append(append(append(b.runnerEnv(), "TF_DATA_DIR="+data), b.cli.Env()...), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.t.Fatalf("%s %s with the PR file alone: %v\n%s\nfile:\n%s", b.bin, strings.Join(args, " "), err, out, file)
		}
		return string(out)
	}
	run("init", "-backend-config=prstate.s3.tfbackend")
	if got := recordedKey(b.t, data); got != want {
		b.t.Fatalf("%s init with the PR file alone recorded key %q, want %q", b.bin, got, want)
	}
	if out := run("plan", "-lock-timeout=0s"); !strings.Contains(out, "No changes.") {
		b.t.Errorf("%s plan with the PR file alone:\n%s", b.bin, out)
	}
}

// TestResolveLikeTheBinary: for each way of configuring the backend, the
// real binary's production init and prstate agree on the production key,
// and the PR file prstate writes (complete, alone) puts the binary on the
// PR key, which prstate seeded.
func TestResolveLikeTheBinary(t *testing.T) {
	t.Parallel()
	type setup struct {
		name   string
		only   string // run with this binary only
		files  func(b *binStack) []string
		init   func(b *binStack) []string // production init's arguments
		inputs func(b *binStack) map[string]string
	}
	none := func(*binStack) []string { return nil }
	noInputs := func(*binStack) map[string]string { return nil }
	for _, tc := range []setup{
		{
			name: "empty block and a tfbackend file",
			files: func(b *binStack) []string {
				return []string{"main.tf", emptyBlockTF, "prod.s3.tfbackend", b.prodFile()}
			},
			init:   func(*binStack) []string { return []string{"-backend-config=prod.s3.tfbackend"} },
			inputs: func(*binStack) map[string]string { return map[string]string{"backend-config": "prod.s3.tfbackend"} },
		},
		{
			name:  "key=value pairs",
			files: func(b *binStack) []string { return []string{"main.tf", emptyBlockTF} },
			init: func(b *binStack) []string {
				var args []string
				for _, p := range b.pairs() {
					args = append(args, "-backend-config="+p)
				}
				return args
			},
			inputs: func(b *binStack) map[string]string {
				return map[string]string{"backend-config": strings.Join(b.pairs(), "\n")}
			},
		},
		{
			name: "tf.json block",
			files: func(b *binStack) []string {
				return []string{"main.tf.json", fmt.Sprintf(`{
  "terraform": {"backend": {"s3": {
    "bucket": %q, "key": %q, "region": "us-east-1",
    "endpoints": {"s3": %q, "dynamodb": %q},
    "use_path_style": true, "skip_credentials_validation": true,
    "skip_requesting_account_id": true, "skip_metadata_api_check": true,
    "use_lockfile": true
  }}},
  "resource": {"terraform_data": {"app": {"input": "app"}}}
}`, b.bucket, prodKey, b.moto.Endpoint, b.moto.Endpoint)}
			},
			init: none, inputs: noInputs,
		},
		{
			name: "tofu block",
			only: "tofu",
			files: func(b *binStack) []string {
				return []string{"backend.tofu", b.mainTF(prodKey), "main.tf", ""}
			},
			init: none, inputs: noInputs,
		},
		{
			name: "tofu block hiding the tf block",
			only: "tofu",
			files: func(b *binStack) []string {
				return []string{
					"backend.tofu", b.backendTF(prodKey),
					"backend.tf", b.backendTF("terraform-only/terraform.tfstate"),
					"main.tf", resourceApp,
				}
			},
			init:   none,
			inputs: func(*binStack) map[string]string { return map[string]string{"binary": "tofu"} },
		},
		{
			name: "override file",
			files: func(b *binStack) []string {
				return []string{
					"main.tf", b.mainTF("base/terraform.tfstate"),
					"backend_override.tf", b.backendTF(prodKey),
				}
			},
			init: none, inputs: noInputs,
		},
	} {
		for _, cli := range testenv.TerraformBinaries(t) {
			bin := cli.Name
			if tc.only != "" && bin != tc.only {
				continue
			}
			t.Run(tc.name+"/"+bin, func(t *testing.T) {
				t.Parallel()
				b := newBinStack(t, cli)
				b.writeFiles(tc.files(b)...)
				prodData := filepath.Join(t.TempDir(), "tf-prod")
				if got := b.applyWith(prodData, nil, tc.init(b)...); got != prodKey {
					t.Fatalf("%s production init recorded key %q, want %q", bin, got, prodKey)
				}
				if _, ok := b.getObject(prodKey); !ok {
					t.Fatalf("%s apply wrote no %s: %v", bin, prodKey, b.objectKeys())
				}
				inputs := tc.inputs(b)
				if got := b.productionKey(inputs); got != prodKey {
					t.Fatalf("prstate resolved production key %q, %s used %q", got, bin, prodKey)
				}
				st := b.plan(merged(map[string]string{"seed": "production"}, inputs))
				if st.outputs["key"] != prKey42 {
					t.Fatalf("PR key %q", st.outputs["key"])
				}
				b.planOnPRKey(st, nil, prKey42)
			})
		}
	}
}

// merged is base with extra's entries on top (base is changed).
func merged(base, extra map[string]string) map[string]string {
	maps.Copy(base, extra)
	return base
}

// pairs are the key=value items that configure production's backend.
func (b *binStack) pairs() []string {
	return []string{
		"bucket=" + b.bucket, "key=" + prodKey, "region=us-east-1",
		fmt.Sprintf("endpoints={s3=%q,dynamodb=%q}", b.moto.Endpoint, b.moto.Endpoint),
		"use_path_style=true", "skip_credentials_validation=true", "skip_requesting_account_id=true",
		"skip_metadata_api_check=true", "use_lockfile=true",
	}
}

// eachBinary runs test once for each binary (terraform, tofu), in
// parallel, as a subtest named after it.
func eachBinary(t *testing.T, test func(t *testing.T, cli testenv.TerraformCLI)) {
	t.Helper()
	t.Parallel()
	for _, cli := range testenv.TerraformBinaries(t) {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			test(t, cli)
		})
	}
}

// TestResolveFromInitRecord: a production-style init ran earlier in the
// working directory (the team's own init step, with its own
// -backend-config): prstate, given nothing but the empty block, takes the
// backend from .terraform/terraform.tfstate; once a PR init has recorded
// the PR key there, a new prstate run does not take that for production.
func TestResolveFromInitRecord(t *testing.T) {
	eachBinary(t, func(t *testing.T, cli testenv.TerraformCLI) {
		b := newBinStack(t, cli, "main.tf", emptyBlockTF)
		b.write("prod.s3.tfbackend", b.prodFile())
		data := filepath.Join(b.dir, ".terraform")
		if got := b.applyWith(data, nil, "-backend-config=prod.s3.tfbackend"); got != prodKey {
			t.Fatalf("production init recorded %q", got)
		}
		if err := os.Remove(filepath.Join(b.dir, "prod.s3.tfbackend")); err != nil {
			t.Fatal(err)
		}
		if got := b.productionKey(nil); got != prodKey {
			t.Fatalf("prstate resolved %q from the record, want %q", got, prodKey)
		}
		st := b.plan(map[string]string{"seed": "production"})
		if st.outputs["key"] != prKey42 {
			t.Fatalf("PR key %q", st.outputs["key"])
		}
		b.mustTF(data, nil, "init", "-reconfigure", "-backend-config=prstate.s3.tfbackend")
		if got := recordedKey(t, data); got != prKey42 {
			t.Fatalf("PR init recorded %q", got)
		}
		if out := b.mustTF(data, nil, "plan", "-lock-timeout=0s"); !strings.Contains(out, "No changes.") {
			t.Errorf("plan on the seeded PR state:\n%s", out)
		}
		// The record now holds the PR key: not production's.
		again := b.prstate(testdataEvent(t, "push", "push.json", "refs/heads/main"), map[string]string{"command": "key", "working-directory": "infra"})
		if again.code != 2 || !strings.Contains(again.stderr, "sets no state key") || !strings.Contains(again.stderr, "backend-config") {
			t.Errorf("prstate after a PR init: exit %d, stdout %q\n%s", again.code, again.stdout, again.stderr)
		}
	})
}

// TestResolveWorkspace: production lives in workspace staging
// (TF_WORKSPACE): prstate resolves env:/staging/app/terraform.tfstate,
// seeds the PR key beside it in the same workspace, and the binary, in
// that workspace with the PR file, plans on exactly that object.
func TestResolveWorkspace(t *testing.T) {
	eachBinary(t, func(t *testing.T, cli testenv.TerraformCLI) {
		bin := cli.Name
		b := newBinStack(t, cli)
		b.write("main.tf", b.mainTF(prodKey))
		ws := []string{"TF_WORKSPACE=staging"}
		data := filepath.Join(t.TempDir(), "tf-prod")
		b.applyWith(data, ws)
		const object = "env:/staging/" + prodKey
		if _, ok := b.getObject(object); !ok {
			t.Fatalf("%s wrote no %s: %v", bin, object, b.objectKeys())
		}
		b.extraEnv = ws
		if got := b.productionKey(nil); got != object {
			t.Fatalf("prstate resolved %q, want %q", got, object)
		}
		st := b.plan(map[string]string{"seed": "production"})
		if want := "env:/staging/" + prKey42; st.outputs["key"] != want {
			t.Fatalf("PR key %q, want %q", st.outputs["key"], want)
		}
		b.planOnPRKey(st, ws, prKey42)
		if _, ok := b.getObject("env:/staging/" + prKey42); !ok {
			t.Errorf("no seeded PR state in the workspace: %v", b.objectKeys())
		}
	})
}

// TestInitPathsEndOnPRKeyOrFail: the three documented ways a PR job runs
// init after prstate plan. Each ends on the PR key, or in the action's
// post step failing with the fix:
//
//  1. export-env and a plain init: the PR key;
//  2. init -backend-config=<output>: the PR key;
//  3. the team's own init -backend-config=prod.s3.tfbackend, kept from
//     before, with export-env: terraform and tofu put TF_CLI_ARGS_init
//     before the command line, so the production file wins and init
//     configures production; the post step fails, naming the fix, and the
//     fix (prstate's file last) ends on the PR key.
func TestInitPathsEndOnPRKeyOrFail(t *testing.T) {
	eachBinary(t, func(t *testing.T, cli testenv.TerraformCLI) {
		bin := cli.Name
		b := newBinStack(t, cli, "main.tf", emptyBlockTF)
		b.write("prod.s3.tfbackend", b.prodFile())
		b.applyWith(filepath.Join(t.TempDir(), "tf-prod"), nil, "-backend-config=prod.s3.tfbackend")
		data := filepath.Join(b.dir, ".terraform") // where the post step reads the record
		for _, tc := range []struct {
			name      string
			exportEnv bool
			args      []string
			wantKey   string
			postFails bool
		}{
			{"export-env and plain init", true, nil, prKey42, false},
			{"init -backend-config=<output>", false, []string{"-reconfigure", "-backend-config=prstate.s3.tfbackend"}, prKey42, false},
			{"own -backend-config with export-env", true, []string{"-reconfigure", "-backend-config=prod.s3.tfbackend"}, prodKey, true},
			{"the fix: prstate's file last", true, []string{"-reconfigure", "-backend-config=prod.s3.tfbackend", "-backend-config=prstate.s3.tfbackend"}, prKey42, false},
		} {
			st := b.plan(map[string]string{"backend-config": "prod.s3.tfbackend", "export-env": fmt.Sprint(tc.exportEnv)})
			env := st.exportedEnv()
			b.mustTF(data, env, append([]string{"init"}, tc.args...)...)
			got := recordedKey(t, data)
			t.Logf("%s: %s init recorded key %s", tc.name, bin, got)
			if got != tc.wantKey {
				t.Fatalf("%s: init recorded key %q, want %q", tc.name, got, tc.wantKey)
			}
			post := b.postStep(st, map[string]string{"backend-config": "prod.s3.tfbackend", "export-env": fmt.Sprint(tc.exportEnv)})
			if !tc.postFails {
				if post.code != 0 || !strings.Contains(post.stderr, "pull request's state") {
					t.Errorf("%s: post step exit %d\n%s", tc.name, post.code, post.stderr)
				}
				continue
			}
			t.Logf("%s: post step exit %d: %s", tc.name, post.code, strings.TrimSpace(post.stderr))
			for _, want := range []string{"::error", "(production's state)", "pass -backend-config=prstate.s3.tfbackend last to init", "give it to prstate as backend-config"} {
				if post.code != 1 || !strings.Contains(post.stderr, want) {
					t.Errorf("%s: post step exit %d, want 1 and %q in\n%s", tc.name, post.code, want, post.stderr)
				}
			}
		}
	})
}

// postStep runs the action's post step after main (the same inputs, the
// state main saved, what main exported through GITHUB_ENV).
func (b *binStack) postStep(main step, inputs map[string]string) step {
	b.t.Helper()
	in := merged(map[string]string{"command": "plan", "working-directory": "infra"}, inputs)
	saved := b.extraEnv
	defer func() { b.extraEnv = saved }()
	b.extraEnv = append(append([]string{}, saved...), main.exportedEnv()...)
	for k, v := range main.state {
		b.extraEnv = append(b.extraEnv, "STATE_"+k+"="+v)
	}
	return b.prstate(prEvent(b.t, "opened", 42), in)
}

// TestOverrideReplacesWholeBlock is the measurement behind the override
// rule: the base block sets the bucket and the key, an override file's
// backend block sets the key only. Neither terraform nor tofu merges the
// two: init fails for want of a bucket, and so does prstate (exit 2,
// naming the override file and backend-config), instead of guessing a
// bucket the binary would not use.
func TestOverrideReplacesWholeBlock(t *testing.T) {
	eachBinary(t, func(t *testing.T, cli testenv.TerraformCLI) {
		b := newBinStack(t, cli)
		b.write("main.tf", b.mainTF("base/terraform.tfstate"))
		b.write("override.tf", "terraform {\n  backend \"s3\" {\n    key = \"override/terraform.tfstate\"\n  }\n}\n")
		out, err := b.tf(filepath.Join(t.TempDir(), "tf"), nil, "init")
		if err == nil || !strings.Contains(out, "bucket") {
			t.Fatalf("%s init merged the override into the base block: err %v\n%s", cli.Name, err, out)
		}
		// plan needs the bucket (key does not: it prints the key alone).
		st := b.prstate(testdataEvent(t, "push", "push.json", "refs/heads/main"), map[string]string{"command": "plan", "working-directory": "infra"})
		if st.code != 2 || !strings.Contains(st.stderr, `backend "s3" block in infra/override.tf sets no bucket: pass your -backend-config file or pairs to prstate as backend-config`) {
			t.Errorf("prstate: exit %d\n%s", st.code, st.stderr)
		}
		if len(b.objectKeys()) != 0 {
			t.Errorf("objects written: %v", b.objectKeys())
		}
	})
}

// TestBackendConfigBadInput: a missing or unparsable backend-config file,
// a value of the wrong type, or a PR file path that is a symlink: one
// line, exit 2, and nothing written (no PR file, no seed, the link's
// target untouched).
func TestBackendConfigBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t, lockS3, true, "app")
	s.applyProduction(true)
	before := s.objectKeys()
	target := filepath.Join(s.root, "precious.txt")
	if err := os.WriteFile(target, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "bad.s3.tfbackend"), []byte("bucket = \"unterminated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		inputs  map[string]string
		symlink bool
		want    string
	}{
		{"missing file", map[string]string{"backend-config": "prod.s3.tfbackend"}, false, "backend-config file infra/prod.s3.tfbackend does not exist"},
		{"unparsable file", map[string]string{"backend-config": "bad.s3.tfbackend"}, false, "cannot parse backend-config file infra/bad.s3.tfbackend:1"},
		{"wrong type", map[string]string{"backend-config": "use_lockfile=sometimes"}, false, "invalid backend-config use_lockfile=sometimes: want bool"},
		{"unknown binary", map[string]string{"binary": "pulumi"}, false, `invalid binary "pulumi"`},
		{"symlink", nil, true, "is a symbolic link, and prstate never writes through one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(s.dir, "prstate.s3.tfbackend")
			_ = os.Remove(file)
			if tc.symlink {
				if err := os.Symlink(target, file); err != nil {
					t.Fatal(err)
				}
				defer os.Remove(file)
			}
			st := s.prstate(prEvent(t, "opened", 42), merged(map[string]string{"command": "plan", "working-directory": "infra", "seed": "production"}, tc.inputs))
			if st.code != 2 || !strings.Contains(st.stderr, tc.want) || strings.Count(strings.TrimSpace(withoutMaskCommands(st.stderr)), "\n") > 1 {
				t.Errorf("exit %d, want 2 and one line with %q:\n%s", st.code, tc.want, st.stderr)
			}
			if fi, err := os.Lstat(file); err == nil && fi.Mode()&os.ModeSymlink == 0 {
				t.Error("a PR file was written")
			}
			if got := readFile(t, target); got != "precious\n" {
				t.Errorf("the link's target changed: %q", got)
			}
			if after := s.objectKeys(); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("objects %v, before %v", after, before)
			}
		})
	}
}

// TestWorkspaceInitCheckedByPostStep: under isolation workspace the PR's
// init keeps production's key and selects workspace pr-N; the post step
// passes when pr-N is selected (TF_WORKSPACE from export-env) and fails
// when init ran in production's workspace.
func TestWorkspaceInitCheckedByPostStep(t *testing.T) {
	eachBinary(t, func(t *testing.T, cli testenv.TerraformCLI) {
		b := newBinStack(t, cli)
		b.write("main.tf", b.mainTF(prodKey))
		b.applyWith(filepath.Join(t.TempDir(), "tf-prod"), nil)
		inputs := map[string]string{"isolation": "workspace", "export-env": "true", "seed": "production"}
		st := b.plan(inputs)
		if st.outputs["key"] != "env:/pr-42/"+prodKey || st.env["TF_WORKSPACE"] != "pr-42" {
			t.Fatalf("outputs %v env %v", st.outputs, st.env)
		}
		data := filepath.Join(b.dir, ".terraform")
		b.mustTF(data, st.exportedEnv(), "init")
		if out := b.mustTF(data, st.exportedEnv(), "plan", "-lock-timeout=0s"); !strings.Contains(out, "No changes.") {
			t.Errorf("%s plan in the seeded workspace:\n%s", cli.Name, out)
		}
		if post := b.postStep(st, inputs); post.code != 0 || !strings.Contains(post.stderr, "s3://"+b.bucket+"/env:/pr-42/"+prodKey) {
			t.Errorf("post step with pr-42 selected: exit %d\n%s", post.code, post.stderr)
		}
		// The same init without the exported workspace: production's.
		noWS := st
		noWS.env = map[string]string{"TF_CLI_ARGS_init": st.env["TF_CLI_ARGS_init"]}
		b.mustTF(data, noWS.exportedEnv(), "init", "-reconfigure")
		post := b.postStep(noWS, inputs)
		if post.code != 1 || !strings.Contains(post.stderr, "workspace default (from default) is selected in infra, not the pull request's pr-42") {
			t.Errorf("post step in the default workspace: exit %d\n%s", post.code, post.stderr)
		}
	})
}
