package lockproof

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// tfConfig is a root module on the world's bucket (and table), through
// the world's endpoint. Each apply changes terraform_data.x.
func (w *world) tfConfig() string {
	lock := "use_lockfile = true"
	if w.table != "" {
		lock = fmt.Sprintf("dynamodb_table = %q", w.table)
	}
	return testenv.TerraformBackend(w.endpoint, fmt.Sprintf("bucket = %q", w.bucket), fmt.Sprintf("key = %q", stateKey), lock) + `
variable "n" {
  type    = string
  default = "0"
}

resource "terraform_data" "x" {
  input = var.n
}
`
}

// tfDir writes the configuration into a new directory and runs terraform init.
func (w *world) tfDir(t testing.TB, tf string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(w.tfConfig()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tf, "init", "-input=false", "-no-color")
	cmd.Dir, cmd.Env = dir, w.environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	return dir
}

func (w *world) serial(t *testing.T) int64 {
	t.Helper()
	obj, err := w.moto.Bucket(t, w.bucket).GetObject(t.Context(), stateKey)
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	h, err := tfstate.Parse(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return h.Serial
}

// TestTerraformAppliesOneAfterAnother: three concurrent
// `prstate run -- terraform apply` jobs on one production state all
// succeed, one after another, and the state serial grows by exactly what
// three applies write (measured on a solo apply first).
func TestTerraformAppliesOneAfterAnother(t *testing.T) {
	tf := testenv.Terraform(t)
	t.Parallel()
	w := newWorld(t, "dynamodb")
	// Terraform talks to moto through the same serializing proxy.
	dirs := make([]string, 4)
	for i := range dirs {
		dirs[i] = w.tfDir(t, tf)
	}
	apply := func(dir string, n int) *exec.Cmd {
		cmd := exec.Command(w.bin, "run", "--lock-timeout", "5m", "--", "sh", "-c",
			`mkdir "$CS_DIR/cs" || exit 99; echo "start $N $(date +%s%N)" >> "$CS_DIR/log"; terraform apply -auto-approve -input=false -no-color -var n=$N; rc=$?; echo "end $N $(date +%s%N)" >> "$CS_DIR/log"; rmdir "$CS_DIR/cs"; exit $rc`)
		cmd.Dir = dir
		cmd.Env = append(w.environ(), "N="+strconv.Itoa(n), "PATH="+filepath.Dir(tf)+":"+os.Getenv("PATH"))
		return cmd
	}
	csDir := t.TempDir()
	solo := apply(dirs[0], 1)
	solo.Env = append(solo.Env, "CS_DIR="+csDir)
	if out, err := solo.CombinedOutput(); err != nil {
		t.Fatalf("solo apply: %v\n%s", err, out)
	}
	s1 := w.serial(t)
	solo = apply(dirs[0], 2)
	solo.Env = append(solo.Env, "CS_DIR="+csDir)
	if out, err := solo.CombinedOutput(); err != nil {
		t.Fatalf("second solo apply: %v\n%s", err, out)
	}
	s2 := w.serial(t)
	perApply := s2 - s1
	if perApply < 1 {
		t.Fatalf("an apply that changes a resource moved the serial by %d", perApply)
	}

	csDir = t.TempDir()
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := apply(dirs[i+1], 10+i)
			cmd.Env = append(cmd.Env, "CS_DIR="+csDir)
			cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
			errs[i] = cmd.Run()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("job %d: %v\n%s", i, err, outs[i].String())
		}
	}
	s3 := w.serial(t)
	t.Logf("serial: %d after the first solo apply, %d after the second (%d per apply), %d after three concurrent jobs", s1, s2, perApply, s3)
	if s3-s2 != 3*perApply {
		t.Errorf("three applies moved the serial by %d, want %d", s3-s2, 3*perApply)
	}
	// One after another: the [start, end] intervals do not overlap.
	type span struct{ start, end int64 }
	spans := map[string]*span{}
	b, _ := os.ReadFile(filepath.Join(csDir, "log"))
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		ns, _ := strconv.ParseInt(f[2], 10, 64)
		if spans[f[1]] == nil {
			spans[f[1]] = &span{}
		}
		if f[0] == "start" {
			spans[f[1]].start = ns
		} else {
			spans[f[1]].end = ns
		}
	}
	var list []span
	for _, s := range spans {
		list = append(list, *s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].start < list[j].start })
	if len(list) != 3 {
		t.Fatalf("%d applies logged, want 3:\n%s", len(list), b)
	}
	for i := 1; i < len(list); i++ {
		if list[i].start < list[i-1].end {
			t.Errorf("applies overlap: %+v", list)
		}
	}
	if _, held := w.holder(t.Context()); held {
		t.Error("apply lock left behind")
	}
}

// TestTerraformForceUnlockStillWorks: Terraform's own state lock, left by
// a killed terraform while prstate holds the apply lock, is listed by
// prstate status and removed by terraform force-unlock; the apply lock
// is untouched.
func TestTerraformForceUnlockStillWorks(t *testing.T) {
	tf := testenv.Terraform(t)
	t.Parallel()
	w := newWorld(t, "dynamodb")
	dir := w.tfDir(t, tf)
	w.dir = dir
	first := exec.Command(tf, "apply", "-auto-approve", "-input=false", "-no-color")
	first.Dir, first.Env = dir, w.environ()
	if b, err := first.CombinedOutput(); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, b)
	}
	applyID, _ := w.output(0, "lock")
	applyID = strings.TrimSpace(applyID)

	// terraform console holds the state lock while it runs.
	console := exec.Command(tf, "console", "-no-color")
	console.Dir, console.Env = dir, w.environ()
	stdin, err := console.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := console.Start(); err != nil {
		t.Fatal(err)
	}
	lockItem := statekey.LockItemID(w.bucket, stateKey)
	table := w.moto.Table(t, w.table)
	waitFor(t, 30*time.Second, "terraform's state lock", func() bool {
		it, err := table.GetItem(t.Context(), lockItem)
		return err == nil && it["Info"] != ""
	})
	console.Process.Signal(syscall.SIGKILL)
	console.Wait()

	out, _ := w.output(0, "status", "--json")
	var locks []applylock.LockEntry
	if err := json.Unmarshal([]byte(out), &locks); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	tfID := ""
	for _, l := range locks {
		if l.Kind == "terraform" && l.StateKey == stateKey {
			tfID = l.ID
		}
	}
	if tfID == "" || len(locks) != 2 {
		t.Fatalf("status does not list both locks: %s", out)
	}
	fu := exec.Command(tf, "force-unlock", "-force", tfID)
	fu.Dir, fu.Env = dir, w.environ()
	if b, err := fu.CombinedOutput(); err != nil {
		t.Fatalf("terraform force-unlock: %v\n%s", err, b)
	}
	if it, err := table.GetItem(t.Context(), lockItem); err == nil && it["Info"] != "" {
		t.Fatalf("terraform's lock still there: %v", it)
	}
	if rec, ok := w.holder(t.Context()); !ok || rec.ID != applyID {
		t.Fatalf("apply lock changed: %+v", rec)
	}

	// prstate force-unlock on Terraform's lock: refused while a live apply
	// lock guards the state, done with --force after a state backup.
	console = exec.Command(tf, "console", "-no-color")
	console.Dir, console.Env = dir, w.environ()
	stdin2, _ := console.StdinPipe()
	defer stdin2.Close()
	if err := console.Start(); err != nil {
		t.Fatal(err)
	}
	var tfID2 string
	waitFor(t, 30*time.Second, "terraform's second state lock", func() bool {
		it, err := table.GetItem(t.Context(), lockItem)
		if err != nil || it["Info"] == "" {
			return false
		}
		li, _ := applylock.ParseLockInfo([]byte(it["Info"]))
		tfID2 = li.ID
		return true
	})
	console.Process.Signal(syscall.SIGKILL)
	console.Wait()
	_, stderr := w.output(1, "force-unlock", "--lock-id", tfID2)
	if !strings.Contains(stderr, "--force") {
		t.Fatalf("refusal: %s", stderr)
	}
	out, _ = w.output(0, "force-unlock", "--lock-id", tfID2, "--force")
	if !strings.Contains(out, "removed terraform lock "+tfID2) || !strings.Contains(out, stateKey+".prstate-backup/") {
		t.Fatalf("force-unlock: %s", out)
	}
	w.output(0, "unlock", "--lock-id", applyID)
	// Terraform works on the state again.
	plan := exec.Command(tf, "plan", "-no-color", "-input=false", "-lock-timeout=5s")
	plan.Dir, plan.Env = dir, w.environ()
	if b, err := plan.CombinedOutput(); err != nil {
		t.Fatalf("terraform plan after force-unlock: %v\n%s", err, b)
	}
}
