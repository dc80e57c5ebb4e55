package cleanup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// encryptedState is an OpenTofu 1.10 encrypted state as tofu writes it.
func encryptedState(serial, data string) []byte {
	return []byte(`{"serial":` + serial + `,"lineage":"` + cleanuptest.Lineage + `","meta":{"key_provider.pbkdf2.k":"eyJzYWx0Ijoi"},"encrypted_data":"` + data + `","encryption_version":"v0"}`)
}

func fastOpts() cleanup.Options {
	return cleanup.Options{LockTimeout: 5 * time.Second, Poll: 20 * time.Millisecond, Who: "test"}
}

// An untouched encrypted seed is removed; an encrypted PR state tofu wrote
// (applied to, or emptied again: cleanup cannot tell which) is kept with
// no invented resource count, the advice names tofu state list with the PR
// key, and --force removes it. One byte-identical to production's state is
// a copy and goes.
func TestCleanupEncryptedStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := cleanuptest.Store{Bucket: memstore.NewBucket("acme-state"), Table: memstore.NewTable("tf-locks")}
	st := cleanuptest.Stack(t, s, true, true, false)
	cleanuptest.Production(t, s) // plain, then encrypted by the next put
	prodBody := encryptedState("5", "cHJvZHVjdGlvbg==")
	cleanuptest.Put(t, s, cleanuptest.Prod, prodBody)
	seeded := cleanuptest.SeededPR(t, s, st, 1, 0)
	written := cleanuptest.SeededPR(t, s, st, 2, 0)
	cleanuptest.TerraformLockCycle(t, s, written)
	cleanuptest.Put(t, s, written, encryptedState("6", "YXBwbGllZA=="))
	copied, _ := st.Keys.Render(3)
	cleanuptest.Put(t, s, copied, prodBody)
	before := cleanuptest.Take(t, s)

	res, err := cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{1, 2, 3}, fastOpts())
	var ct *cleanup.CannotTellError
	if !errors.As(err, &ct) || ct.Key != written || ct.Tool != "tofu" || !cleanup.IsRefusal(err) {
		t.Fatalf("err %v, want CannotTellError for %s", err, written)
	}
	var oe *cleanup.OrphanError
	if errors.As(err, &oe) || strings.Contains(err.Error(), "resource(s)") {
		t.Errorf("an encrypted state got an invented resource count: %v", err)
	}
	for _, want := range []string{"encrypted", "cannot tell", "`tofu init -reconfigure -backend-config=prstate.s3.tfbackend && tofu state list`", "tofu show", "--force"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q: %v", want, err)
		}
	}
	if !res[0].Removed() || res[0].Versions == 0 || !res[2].Removed() || res[2].Versions == 0 {
		t.Errorf("untouched seed / production copy not removed: %+v / %+v", res[0], res[2])
	}
	if res[1].Removed() || len(res[1].Orphans) != 0 || !strings.Contains(res[1].Skipped, "cannot tell") || !strings.Contains(res[1].Skipped, "tofu state list") {
		t.Errorf("written encrypted state: %+v", res[1])
	}
	if d := cleanuptest.Diff(before.Without("acme-state", seeded, seeded+".tflock", copied, copied+".tflock"), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("changed beyond PRs 1 and 3:\n%s", strings.Join(d, "\n"))
	}

	// A body that is no state at all: cannot tell either, no invented count.
	garbled, _ := st.Keys.Render(4)
	cleanuptest.Put(t, s, garbled, []byte("<html>proxy error</html>"))
	res, err = cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{4}, fastOpts())
	if !errors.As(err, &ct) || ct.Tool != "terraform (or tofu)" || strings.Contains(err.Error(), "resource(s)") || res[0].Removed() || len(res[0].Orphans) != 0 {
		t.Fatalf("unreadable PR state: %+v, %v", res, err)
	}

	o := fastOpts()
	o.Force = true
	res, err = cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{2}, o)
	if err != nil || !res[0].Removed() || res[0].Versions < 3 {
		t.Fatalf("--force: %+v, %v", res, err)
	}
}

// The applied-to refusal names only what the PR added and the targeted
// destroy that removes it, never a plain destroy (the seeded PR state
// tracks production's resources too); the tool is tofu when the stack's
// directory has *.tofu files, and "terraform (or tofu)" when unknown.
func TestCleanupAppliedToAdvice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, init, destroy, extra string
	}{
		{"unknown", "", "terraform init -reconfigure -backend-config=prstate.s3.tfbackend", "terraform destroy -target=terraform_data.pr_only -target=module.m.terraform_data.x", "(`tofu` instead of `terraform` for an OpenTofu stack)"},
		{"tofu", "main.tofu", "tofu init -reconfigure -backend-config=prstate.s3.tfbackend", "tofu destroy -target=terraform_data.pr_only -target=module.m.terraform_data.x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := cleanuptest.Store{Bucket: memstore.NewBucket("acme-state"), Table: memstore.NewTable("tf-locks")}
			st := cleanuptest.Stack(t, s, true, true, false)
			st.Dir = t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(st.Dir, tc.file), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cleanuptest.Production(t, s)
			key := cleanuptest.SeededPR(t, s, st, 9, 1)
			cleanuptest.Put(t, s, key, []byte(strings.Replace(string(cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.pr_only")),
				`"resources":[`, `"resources":[{"module":"module.m","mode":"managed","type":"terraform_data","name":"x","instances":[]},`, 1)))
			res, err := cleanup.Run(context.Background(), cleanuptest.CleanupStore(st, s), st, []int{9}, fastOpts())
			var oe *cleanup.OrphanError
			if !errors.As(err, &oe) || !cleanup.IsRefusal(err) {
				t.Fatalf("err %v", err)
			}
			want := []string{"module.m.terraform_data.x", "terraform_data.pr_only"}
			slices.Sort(oe.Addresses)
			if !slices.Equal(oe.Addresses, want) {
				t.Errorf("addresses %v, want only the PR's %v", oe.Addresses, want)
			}
			msg := err.Error() + "\n" + res[0].Skipped
			if !strings.Contains(err.Error(), "`"+tc.init+" && "+tc.destroy+"`") && !strings.Contains(err.Error(), "`"+tc.init+" && "+strings.Replace(tc.destroy, "-target=terraform_data.pr_only -target=module.m.terraform_data.x", "-target=module.m.terraform_data.x -target=terraform_data.pr_only", 1)+"`") {
				t.Errorf("refusal lacks the targeted destroy %q:\n%s", tc.destroy, msg)
			}
			if tc.extra != "" && !strings.Contains(err.Error(), tc.extra) {
				t.Errorf("refusal lacks %q:\n%s", tc.extra, msg)
			}
			for _, bad := range []string{"terraform_data.a", "terraform_data.b", "destroy on the PR key", "destroy`"} {
				if strings.Contains(msg, bad) {
					t.Errorf("refusal mentions %q (production's resources, or a plain destroy):\n%s", bad, msg)
				}
			}
		})
	}
}
