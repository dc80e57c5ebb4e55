package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// tofuEncryption is OpenTofu state encryption with a passphrase: the
// states tofu writes to S3 are encrypted envelopes.
const tofuEncryption = `terraform {
  encryption {
    key_provider "pbkdf2" "k" {
      passphrase = "correct-horse-battery-staple-e2e"
    }
    method "aes_gcm" "m" {
      keys = key_provider.pbkdf2.k
    }
    state {
      method = method.aes_gcm.m
    }
  }
}
`

// encrypted gives the root module of s OpenTofu state encryption.
func (s *stack) encrypted() *stack {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "encryption.tf"), []byte(tofuEncryption), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return s
}

// TestTofuEncryptedSeedCleanupSweep: with OpenTofu state encryption,
// production's encrypted state is seeded byte for byte (digest and
// provenance too) and tofu plans "No changes" on the PR key; cleanup
// removes an untouched encrypted seed; a PR that applied to its encrypted
// state is kept: cleanup cannot tell what it tracks, says so (no invented
// count) and how to check (the advice works), exits 1; the nightly sweep
// keeps it too, removes the other closed PR's seed, warns, exits 0.
func TestTofuEncryptedSeedCleanupSweep(t *testing.T) {
	t.Parallel()
	tofu := testenv.TerraformCLI{Name: "tofu", Path: testenv.Tofu(t)}
	s := newStackFor(t, tofu, lockDynamoDB, true, "app").encrypted()
	gh := newRunnerAPI(t)
	s.applyProduction(true)
	prod, _ := s.getObject(prodKey)
	if h, err := tfstate.Parse(prod.Body); !h.Encrypted {
		t.Fatalf("tofu wrote production unencrypted (%v):\n%s", err, prod.Body)
	}
	planInputs := map[string]string{"working-directory": "infra", "seed": "production"}

	// PR 61 changes nothing: a byte copy, digest and provenance; No changes.
	const key61 = "app/pr-61/terraform.tfstate"
	pr61 := s.checkout("", "app").encrypted()
	pr61.planNoChanges(gh.URL, prPayload(t, "opened", 61, false, ""), planInputs, key61)
	seed, _ := s.getObject(key61)
	if !bytes.Equal(seed.Body, prod.Body) {
		t.Errorf("the seed is not a byte copy of production's encrypted state")
	}
	if d, _ := s.getItem(statekey.DigestID(s.bucket, key61)); d["Digest"] != tfstate.MD5Hex(prod.Body) {
		t.Errorf("PR digest %v, want %s", d, tfstate.MD5Hex(prod.Body))
	}
	if seed.Metadata[tfstate.MetaSeedSource] != prodKey || seed.Metadata[tfstate.MetaSeedMD5] != tfstate.MD5Hex(prod.Body) || seed.Metadata[tfstate.MetaSeedLineage] == "" {
		t.Errorf("seed provenance %v", seed.Metadata)
	}
	prodSnap := s.snapshot(prodKey)
	closed := pr61.action(job{api: gh.URL}, prPayload(t, "closed", 61, false, ""), map[string]string{"working-directory": "infra"}, nil)
	closed.mustSucceed(t)
	if closed.outputs["deleted"] != "1" {
		t.Errorf("cleanup of the untouched encrypted seed: outputs %v\n%s%s", closed.outputs, closed.stdout, closed.stderr)
	}
	s.checkCleanedUp(key61, closed, prodSnap)

	// PR 62 applies a resource of its own to its encrypted PR state.
	const key62 = "app/pr-62/terraform.tfstate"
	pr62 := s.checkout("", "app", "pr_only").encrypted()
	pr62.mustSucceedAction(gh.URL, prPayload(t, "opened", 62, false, ""), planInputs)
	data62 := filepath.Join(t.TempDir(), "tf-pr62")
	pr62.mustTerraform(data62, nil, "init", "-backend-config=prstate.s3.tfbackend")
	pr62.mustTerraform(data62, nil, "apply", "-auto-approve", "-lock-timeout=0s")
	// PR 63 plans and stays an untouched seed.
	const key63 = "app/pr-63/terraform.tfstate"
	pr63 := s.checkout("", "app").encrypted()
	pr63.mustSucceedAction(gh.URL, prPayload(t, "opened", 63, false, ""), planInputs)

	before62 := s.snapshot(key62)
	refused := pr62.action(job{api: gh.URL}, prPayload(t, "closed", 62, false, ""), map[string]string{"working-directory": "infra"}, nil)
	out := refused.stdout + refused.stderr
	if refused.code != 1 || refused.outputs["deleted"] != "0" {
		t.Errorf("cleanup of an applied encrypted state: exit %d outputs %v, want exit 1, nothing deleted\n%s", refused.code, refused.outputs, out)
	}
	for _, want := range []string{"cannot tell", "encrypted", "`tofu init -reconfigure -backend-config=prstate.s3.tfbackend && tofu state list`", "tofu show", "--force"} {
		if !strings.Contains(out, want) {
			t.Errorf("cleanup output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "resource(s)") || strings.Contains(out, "unreadable state") {
		t.Errorf("cleanup invented a resource count:\n%s", out)
	}
	if after := s.snapshot(key62); len(after.Versions) != len(before62.Versions) || after.Bodies[key62] != before62.Bodies[key62] {
		t.Errorf("refused cleanup changed the PR state\nbefore: %s\nafter: %s", before62, after)
	}
	// The advice works: with the PR key, tofu lists what the state tracks.
	advised := filepath.Join(t.TempDir(), "tf-advice")
	pr62.mustTerraform(advised, nil, "init", "-reconfigure", "-backend-config=prstate.s3.tfbackend")
	if list := pr62.mustTerraform(advised, nil, "state", "list"); !strings.Contains(list, "terraform_data.pr_only") {
		t.Errorf("tofu state list on the PR key:\n%s", list)
	}

	// The nightly sweep: PRs 62 and 63 are closed.
	now := time.Now()
	pulls := githubfake.New(t, "acme/infra")
	pulls.Token = fakeToken
	pulls.AddPulls(githubfake.Pull{Number: 62, State: "closed", UpdatedAt: now}, githubfake.Pull{Number: 63, State: "closed", Merged: true, UpdatedAt: now}, githubfake.Pull{Number: 61, State: "closed", UpdatedAt: now})
	sweep := s.action(job{api: pulls.URL}, testdataEvent(t, "schedule", "schedule.json", ""), map[string]string{"working-directory": "infra"}, nil)
	out = sweep.stdout + sweep.stderr
	if sweep.code != 0 {
		t.Fatalf("sweep exit %d, want 0 (a kept state is a report):\n%s", sweep.code, out)
	}
	for _, want := range []string{"removed " + key63, "skipped " + key62, "::warning::sweep kept " + key62 + " (PR #62): cannot tell", "1 kept"} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(sweep.summary, "cannot tell") || sweep.outputs["deleted"] != "1" {
		t.Errorf("sweep summary / outputs: %v\n%s", sweep.outputs, sweep.summary)
	}
	if _, ok := s.getObject(key62); !ok {
		t.Error("the sweep removed the applied encrypted PR state")
	}
	s.checkCleanedUp(key63, sweep, prodSnap)
}

// mustSucceedAction runs one action step in s and requires exit 0.
func (s *stack) mustSucceedAction(api string, ev event, inputs map[string]string) actionResult {
	s.t.Helper()
	r := s.action(job{api: api}, ev, inputs, nil)
	r.mustSucceed(s.t)
	return r
}
