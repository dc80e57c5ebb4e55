package cleanup_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// A sweep goes on past refused PR states: the untouched seed goes, the
// applied-to state and the encrypted state it cannot tell about stay and
// are reported, and the sweep returns no error. A storage failure is
// still an error.
func TestSweepKeepsGoingPastRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	s := cleanuptest.Store{Bucket: b, Table: tb}
	st := cleanuptest.Stack(t, s, true, true, false)
	cleanuptest.Production(t, s)
	seed := cleanuptest.SeededPR(t, s, st, 1, 1)
	applied := cleanuptest.SeededPR(t, s, st, 2, 1)
	cleanuptest.Put(t, s, applied, cleanuptest.StateJSON(9, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.pr_only"))
	encrypted := cleanuptest.SeededPR(t, s, st, 3, 0)
	cleanuptest.Put(t, s, encrypted, encryptedState("6", "YXBwbGllZA=="))
	before := cleanuptest.Take(t, s)
	o := fastOpts()
	o.Clock = clocktest.At(time.Now().Add(2 * time.Hour))
	opts := cleanup.SweepOptions{Cleanup: o, OlderThan: time.Hour}
	rep, err := cleanup.Sweep(ctx, []cleanup.SweepTarget{{Stack: st, Bucket: b, Table: tb}}, opts)
	if err != nil {
		t.Fatalf("sweep with refusals returned %v, want nil", err)
	}
	if rep.Refused != 2 || len(rep.Results) != 3 {
		t.Fatalf("report %+v, want 3 results, 2 refused", rep)
	}
	byPR := map[int]cleanup.Result{}
	for _, r := range rep.Results {
		byPR[r.PR] = r
	}
	if r := byPR[1]; !r.Removed() || r.Versions == 0 {
		t.Errorf("untouched seed: %+v", r)
	}
	if r := byPR[2]; r.Removed() || !strings.Contains(r.Skipped, "-target=terraform_data.pr_only") {
		t.Errorf("applied-to state: %+v", r)
	}
	if r := byPR[3]; r.Removed() || !strings.Contains(r.Skipped, "cannot tell") {
		t.Errorf("encrypted state: %+v", r)
	}
	if d := cleanuptest.Diff(before.Without("acme-state", seed, seed+".tflock"), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("sweep changed beyond PR 1:\n%s", strings.Join(d, "\n"))
	}

	// A storage failure is an error, refusals or not.
	cleanuptest.SeededPR(t, s, st, 4, 1)
	flaky := &cleanuptest.FlakyBucket{Bucket: b}
	flaky.Failures.Store(5)
	rep, err = cleanup.Sweep(ctx, []cleanup.SweepTarget{{Stack: st, Bucket: flaky, Table: tb}}, opts)
	if err == nil || cleanup.IsRefusal(err) || !strings.Contains(err.Error(), "connection reset") || rep.Refused != 2 {
		t.Fatalf("sweep with a storage failure: %+v, %v", rep, err)
	}
	var oe *cleanup.OrphanError
	if errors.As(err, &oe) {
		t.Errorf("the refusal is in the sweep's error: %v", err)
	}
}
