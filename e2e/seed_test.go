package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// TestSeedProduction: with seed: production a PR plan of an unchanged
// configuration shows no changes, a changed one shows only the PR's own
// diff, a seed older than production is replaced by the newer state, and a
// PR state that terraform wrote is never replaced.
func TestSeedProduction(t *testing.T) {
	t.Parallel()
	for _, mode := range []lockMode{lockDynamoDB, lockS3} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			// Everything in the backend block: the action gets only the
			// working directory and the seed.
			s := newStack(t, mode, true, "app")
			s.applyProduction(true)
			inputs := map[string]string{"working-directory": "infra", "seed": "production"}
			const prKey = "app/pr-7/terraform.tfstate"

			st := s.mustPrstate(prEvent(t, "opened", 7), inputs)
			prod, _ := s.getObject(prodKey)
			h, err := tfstate.Parse(prod.Body)
			if err != nil {
				t.Fatal(err)
			}
			s.checkSeed(st, prKey, prod.Body, h, "seeded from production")
			seeded, _ := s.getObject(prKey)

			terraformPlan := func(wantExit int) string {
				t.Helper()
				data := filepath.Join(t.TempDir(), "tf-pr")
				s.mustTerraform(data, nil, "init", "-backend-config="+st.outputs["backend-config"])
				out, err := s.terraform(data, nil, "plan", "-detailed-exitcode", "-lock-timeout=0s")
				if code := exitCode(t, err); code != wantExit {
					t.Fatalf("terraform plan exit %d, want %d\n%s", code, wantExit, out)
				}
				return out
			}
			if out := terraformPlan(0); !strings.Contains(out, "No changes.") {
				t.Errorf("seeded plan of the production configuration:\n%s", out)
			}

			// The PR adds a resource: a new commit, a new run.
			s.writeConfig(true, "app", "extra")
			st = s.mustPrstate(prEvent(t, "synchronize", 7), inputs)
			if !strings.Contains(st.stderr, "seed: the PR state is an up-to-date seed") {
				t.Errorf("second run on an up-to-date seed:\n%s", st.stderr)
			}
			if again, _ := s.getObject(prKey); again.VersionID != seeded.VersionID {
				t.Errorf("an up-to-date seed was rewritten: version %s -> %s", seeded.VersionID, again.VersionID)
			}
			out := terraformPlan(2)
			if !strings.Contains(out, "Plan: 1 to add, 0 to change, 0 to destroy.") || !strings.Contains(out, "terraform_data.extra will be created") || strings.Contains(out, "terraform_data.app ") {
				t.Errorf("plan of the PR's change is not the diff against production:\n%s", out)
			}

			// Another PR merges and production moves on; the untouched seed
			// of PR 7 is replaced by the newer production state.
			s.writeConfig(true, "app", "other")
			s.applyProduction(true)
			prod2, _ := s.getObject(prodKey)
			h2, err := tfstate.Parse(prod2.Body)
			if err != nil || h2.Serial <= h.Serial {
				t.Fatalf("production serial %d -> %d, %v", h.Serial, h2.Serial, err)
			}
			s.writeConfig(true, "app", "extra")
			st = s.mustPrstate(prEvent(t, "synchronize", 7), inputs)
			s.checkSeed(st, prKey, prod2.Body, h2, "seeded from production")
			out = terraformPlan(2)
			if !strings.Contains(out, "Plan: 1 to add, 0 to change, 1 to destroy.") || !strings.Contains(out, "terraform_data.other will be destroyed") {
				t.Errorf("plan after production moved on:\n%s", out)
			}

			// Someone applies on the PR key: terraform's write drops the seed
			// metadata, so the state counts as applied to from then on, and
			// the next run leaves it alone although production moved on.
			data := filepath.Join(t.TempDir(), "tf-pr-apply")
			s.mustTerraform(data, nil, "init", "-backend-config="+st.outputs["backend-config"])
			s.mustTerraform(data, nil, "apply", "-auto-approve", "-lock-timeout=0s")
			applied, _ := s.getObject(prKey)
			for k := range applied.Metadata {
				if strings.HasPrefix(k, "prstate-") {
					t.Errorf("terraform's write kept seed metadata %s: %v", k, applied.Metadata)
				}
			}
			s.writeConfig(true, "app", "other", "third")
			s.applyProduction(true)
			s.writeConfig(true, "app", "extra")
			st = s.mustPrstate(prEvent(t, "synchronize", 7), inputs)
			if !strings.Contains(st.stderr, "seed: the PR state exists and was written by Terraform") {
				t.Errorf("run after an apply on the PR key:\n%s", st.stderr)
			}
			if again, _ := s.getObject(prKey); again.VersionID != applied.VersionID {
				t.Errorf("a PR state that was applied to was overwritten: version %s -> %s", applied.VersionID, again.VersionID)
			}
		})
	}
}

// checkSeed checks that the PR object is a copy of production's state with
// the seed metadata, that its digest item was written (with a table), and
// that prstate said so.
func (s *stack) checkSeed(st step, prKey string, prodBody []byte, h tfstate.Header, reason string) {
	s.t.Helper()
	if st.outputs["key"] != prKey {
		s.t.Errorf("key output %q, want %s", st.outputs["key"], prKey)
	}
	if !strings.Contains(st.stderr, "seed: "+reason) {
		s.t.Errorf("stderr lacks %q:\n%s", reason, st.stderr)
	}
	if want := "from `" + prodKey + "` serial " + strconv.FormatInt(h.Serial, 10); !strings.Contains(st.summary, want) {
		s.t.Errorf("step summary lacks %q:\n%s", want, st.summary)
	}
	obj, ok := s.getObject(prKey)
	if !ok {
		s.t.Fatalf("no PR state at %s", prKey)
	}
	if string(obj.Body) != string(prodBody) {
		s.t.Errorf("PR state is not production's:\n%s\n---\n%s", obj.Body, prodBody)
	}
	sum := md5.Sum(prodBody)
	md5hex := hex.EncodeToString(sum[:])
	for k, v := range map[string]string{
		tfstate.MetaSeedSource: prodKey, tfstate.MetaSeedSerial: strconv.FormatInt(h.Serial, 10),
		tfstate.MetaSeedLineage: h.Lineage, tfstate.MetaSeedMD5: md5hex,
	} {
		if obj.Metadata[k] != v {
			s.t.Errorf("PR object metadata %s = %q, want %q (all: %v)", k, obj.Metadata[k], v, obj.Metadata)
		}
	}
	if s.table != "" {
		it, ok := s.getItem(statekey.DigestID(s.bucket, prKey))
		if !ok || it["Digest"] != md5hex {
			s.t.Errorf("PR digest item %v, want Digest %s", it, md5hex)
		}
	}
}
