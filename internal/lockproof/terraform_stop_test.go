package lockproof

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

// TestTerraformStopsGracefully: `prstate run -- terraform apply` with a
// real provider plugin (OpenTofu's provider-simple, built with a slow
// ApplyResourceChange) loses the lock mid-apply (its store is cut off),
// or receives SIGTERM mid-apply. Terraform gets SIGINT, its provider
// finishes the call in flight (3 s after the SIGINT reached it), the
// state records the change (serial +1) and no SIGTERM or SIGKILL was
// needed. A lost lock exits non-zero saying so. With `kill -9` of prstate
// mid-apply, its guardian does the same, and terraform has exited before
// a second `prstate run` waiting on the lock starts its command. With
// SIGTERM first (the old way) the plugin dies mid-call: the change is
// made, the state never records it.
func TestTerraformStopsGracefully(t *testing.T) {
	testenv.SkipShort(t, "starts moto, terraform and a provider plugin")
	tf := testenv.Terraform(t)
	prov := testenv.BuildSlowProvider(t)
	// StopWindow is lease/6 = 10 s: SIGTERM 7.5 s after SIGINT.
	const lease = time.Minute
	for _, how := range []string{"lost", "sigterm", "kill9"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "s3")
			events := filepath.Join(t.TempDir(), "events")
			dir := t.TempDir()
			// terraform reaches the state through the world's endpoint,
			// named in its backend block; prstate through its own proxy.
			cfg := testenv.TerraformBackend(w.endpoint, `bucket = "`+w.bucket+`"`, `key = "`+stateKey+`"`, "use_lockfile = true") + `
terraform {
  required_providers {
    simple = { source = "` + testenv.SlowProviderSource + `" }
  }
}

variable "n" {
  type = string
}

resource "simple_resource" "slow" {
  value = var.n
}
`
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			fast := append(w.environ(), prov.Env("0s", "", events)...)
			for _, args := range [][]string{{"init", "-input=false", "-no-color"}, {"apply", "-auto-approve", "-input=false", "-no-color", "-var=n=0"}} {
				cmd := exec.Command(tf, args...)
				cmd.Dir, cmd.Env = dir, fast
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
				}
			}
			serial0 := w.serial(t)
			_ = os.Remove(events)

			cut := testenv.NewFaultProxy(t, w.endpoint, testenv.Faults{})
			env := append([]string{"AWS_ENDPOINT_URL_S3=" + cut.URL}, prov.Env("10m", "3s", events)...)
			// The shell survives the stop's signals (no-op traps; terraform
			// gets them as usual) to log when terraform exited.
			// bash's EPOCHREALTIME, not $(date): no new process after the stop
			// began, which the guardian's repeated signals could kill before
			// it prints (seen once in CI: no terraform-exit time).
			apply := []string{"bash", "-c", `LC_NUMERIC=C; trap : INT TERM; "$@"; rc=$?; echo "terraform-exit ${EPOCHREALTIME/./}000" >> ` + events + `; exit $rc`, "bash", tf, "-chdir=" + dir, "apply", "-auto-approve", "-input=false", "-no-color", "-var=n=1"}
			holder := w.start(t, env, runArgs(lease, nil, apply)...)
			waitFor(t, 60*time.Second, "the provider's apply", func() bool { return !providerEvent(t, events, "apply-start").IsZero() })
			var waiter *proc
			if how == "kill9" {
				waiter = w.start(t, nil, runArgs(lease, []string{"--lock-timeout", "5m"}, []string{"sh", "-c", `echo "waiter-start $(date +%s%N)" >> ` + events})...)
			}
			from := time.Now()
			switch how {
			case "lost":
				cut.Stall()
				defer cut.Resume()
			case "sigterm":
				if err := holder.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			case "kill9":
				if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			code := holder.wait(t, 2*lease)
			if waiter != nil {
				if wcode := waiter.wait(t, 3*lease); wcode != 0 {
					t.Fatalf("waiter: exit %d\n%s", wcode, waiter.stderr.String())
				}
				tfExit, next := providerEvent(t, events, "terraform-exit"), providerEvent(t, events, "waiter-start")
				t.Logf("kill9: terraform exited %s after the kill -9, the next holder's command started %s after it (lease %s)", tfExit.Sub(from).Round(time.Millisecond), next.Sub(from).Round(time.Millisecond), lease)
				if tfExit.IsZero() || !tfExit.Before(next) {
					t.Errorf("terraform exited at %v, the next holder's command started at %v: overlap", tfExit, next)
				}
			}
			stderr := holder.stderr.String()
			sigint, end := providerEvent(t, events, "provider-sigint"), providerEvent(t, events, "apply-end")
			serial, value := w.serial(t), stateValue(t, w)
			t.Logf("%s: SIGINT reached the provider %s after the %s, its call ended %s later, prstate exited %d %s after the SIGINT; state serial %d -> %d, value %q; stop steps: %s",
				how, sigint.Sub(from).Round(time.Millisecond), map[string]string{"lost": "cut", "sigterm": "signal", "kill9": "kill -9"}[how], end.Sub(sigint).Round(time.Millisecond), code, holder.ended.Sub(sigint).Round(time.Millisecond), serial0, serial, value, stopSteps(stderr))
			if sigint.IsZero() {
				t.Fatalf("the provider never got SIGINT\n%s", stderr)
			}
			if end.IsZero() || end.Before(sigint) {
				t.Errorf("the provider's call in flight did not finish after SIGINT (ended %v)\n%s", end, stderr)
			}
			if serial != serial0+1 || value != "1" {
				t.Errorf("state serial %d (want %d), value %q (want 1): the change is not in the state\n%s", serial, serial0+1, value, stderr)
			}
			for _, step := range []string{"sent SIGTERM", "sent SIGKILL"} {
				if strings.Contains(stderr, step) {
					t.Errorf("terraform did not stop within the graceful window (%s)\n%s", step, stderr)
				}
			}
			if how == "kill9" {
				return // prstate died: what it said is cut short
			}
			if how == "lost" && (code == 0 || !strings.Contains(stderr, "lost the apply lock")) {
				t.Errorf("exit %d after losing the lock\n%s", code, stderr)
			}
			if how == "sigterm" && !strings.Contains(stderr, "released the apply lock") {
				t.Errorf("exit %d, no release after SIGTERM\n%s", code, stderr)
			}
		})
	}
}

// providerEvent is when the slow provider first logged what, zero if never.
func providerEvent(t *testing.T, events, what string) time.Time {
	t.Helper()
	return signalTimes(t, events)[what]
}

// stateValue is simple_resource.slow's value in the production state.
func stateValue(t *testing.T, w *world) string {
	t.Helper()
	obj, err := w.moto.Bucket(t, w.bucket).GetObject(t.Context(), stateKey)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Type      string
			Instances []struct {
				Attributes map[string]any
			}
		}
	}
	if err := json.Unmarshal(obj.Body, &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Type == "simple_resource" && len(r.Instances) == 1 {
			v, _ := r.Instances[0].Attributes["value"].(string)
			return v
		}
	}
	return ""
}

// stopSteps is the guardian's log of the signals it sent.
func stopSteps(stderr string) string {
	return strings.Join(regexp.MustCompile(`sent SIG\w+ to \d+ process\(es\) of \S+ \([^)]*\)`).FindAllString(stderr, -1), "; ")
}
