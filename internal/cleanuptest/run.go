package cleanuptest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// opts are options for tests: lock waits on a fake clock of their own.
func opts() cleanup.Options {
	return cleanup.Options{LockTimeout: 5 * time.Second, Poll: 20 * time.Millisecond, Who: "test", Logf: func(string, ...any) {}, Clock: clocktest.New()}
}

// releaseAt releases a lock when the options' fake clock reaches d from now.
func releaseAt(o cleanup.Options, d time.Duration, release func()) {
	clk := o.Clock.(*clocktest.Fake)
	clk.When(clk.Now().Add(d), release)
}

// Run runs every cleanup scenario against stores from newStore.
func Run(t *testing.T, newStore NewStore) {
	backends := []struct {
		name            string
		lockfile, table bool
	}{{"dynamodb", false, true}, {"lockfile", true, false}, {"both", true, true}, {"none", false, false}}
	for _, be := range backends {
		for _, ws := range []bool{false, true} {
			name := be.name
			if ws {
				name += "/workspace"
			}
			t.Run("removes everything/"+name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t, true)
				if !be.table {
					s.Table = nil // no table: terraform writes no digest either
				}
				st := Stack(t, s, be.lockfile, be.table, ws)
				removesEverything(t, s, st)
			})
		}
	}
	t.Run("applied to", func(t *testing.T) { t.Parallel(); appliedTo(t, newStore(t, true)) })
	t.Run("unseeded", func(t *testing.T) { t.Parallel(); unseeded(t, newStore(t, true)) })
	t.Run("unversioned bucket", func(t *testing.T) { t.Parallel(); unversioned(t, newStore(t, false)) })
	t.Run("waits for the lock", func(t *testing.T) { t.Parallel(); waitsForLock(t, newStore(t, true)) })
	t.Run("lock timeout", func(t *testing.T) { t.Parallel(); lockTimeout(t, newStore(t, true)) })
	t.Run("takes over a dead cleanup's lock", func(t *testing.T) { t.Parallel(); takesOver(t, newStore(t, true)) })
	t.Run("fails part-way and finishes on a second run", func(t *testing.T) { t.Parallel(); partWay(t, newStore(t, true)) })
	t.Run("dry run", func(t *testing.T) { t.Parallel(); dryRun(t, newStore(t, true)) })
	t.Run("batch", func(t *testing.T) { t.Parallel(); batch(t, newStore(t, true)) })
}

// batch: 40 PR states at once (transactional lock puts, one listing,
// seeds recognised by ETag) behave like one at a time: the applied-to one
// and the one locked for good stay, the one locked for a while goes after
// its plan, and everything else goes.
func batch(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	var prs []int
	keys := map[int]string{}
	for pr := 1; pr <= 40; pr++ {
		keys[pr] = SeededPR(t, s, st, pr, pr%3)
		prs = append(prs, pr)
	}
	Put(t, s, keys[3], StateJSON(30, Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.preview"))
	Put(t, s, keys[9], StateJSON(1, "own-lineage"))
	holdLock(t, s, keys[7])
	release := holdLock(t, s, keys[5])
	before := Take(t, s)
	objs, err := s.Bucket.ListObjects(context.Background(), st.Keys.ListPrefix())
	if err != nil {
		t.Fatal(err)
	}
	// On the fake clock: PR 5's plan ends 3 s in, well before the 2 min
	// lock-timeout, so PR 5's waiter has ~100 polls of PR 7's waiter to
	// see it free, however the two goroutines are scheduled.
	o := opts()
	o.LockTimeout, o.Poll, o.Population = 2*time.Minute, time.Second, len(objs)
	releaseAt(o, 3*time.Second, release)
	res, err := runCleanup(t, s, st, o, prs...)
	var oe *cleanup.OrphanError
	var te *cleanup.StateLockTimeoutError
	if !errors.As(err, &oe) || oe.Key != keys[3] || !errors.As(err, &te) || te.Key != keys[7] {
		t.Fatalf("err %v: want PR 3 refused and PR 7 timed out", err)
	}
	var gone []string
	for i, r := range res {
		switch pr := prs[i]; pr {
		case 3, 7:
			if r.Removed() {
				t.Errorf("PR %d removed: %+v", pr, r)
			}
		default:
			if !r.Removed() || r.Versions == 0 {
				t.Errorf("PR %d: %+v", pr, r)
			}
			gone = append(gone, keys[pr], keys[pr]+".tflock")
		}
	}
	if d := Diff(before.Without(s.Bucket.Name(), gone...), Take(t, s)); len(d) > 0 {
		t.Fatalf("changed beyond the removed PRs:\n%s", strings.Join(d, "\n"))
	}
}

func runCleanup(t *testing.T, s Store, st statekey.Stack, o cleanup.Options, prs ...int) ([]cleanup.Result, error) {
	t.Helper()
	return cleanup.Run(context.Background(), CleanupStore(st, s), st, prs, o)
}

// removesEverything: a seeded PR state with terraform writes and lock
// cycles goes entirely; production and another PR stay byte for byte;
// a second run finds nothing and succeeds.
func removesEverything(t *testing.T, s Store, st statekey.Stack) {
	Production(t, s)
	key := SeededPR(t, s, st, 7, 2)
	other := SeededPR(t, s, st, 71, 1)
	before := Take(t, s)
	res, err := runCleanup(t, s, st, opts(), 7)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Key != key || !r.Removed() || r.Versions < 3 || r.Bytes == 0 {
		t.Fatalf("result %+v", r)
	}
	if st.Backend.DynamoDBTable != "" && !slices.Contains(r.Items, statekey.DigestID(s.Bucket.Name(), key)) {
		t.Fatalf("items %v lack the digest", r.Items)
	}
	after := Take(t, s)
	if d := Diff(before.Without(s.Bucket.Name(), key, key+".tflock"), after); len(d) > 0 {
		t.Fatalf("changed beyond PR 7:\n%s", strings.Join(d, "\n"))
	}
	for k := range after {
		if strings.Contains(k, key) {
			t.Fatalf("left behind: %s", k)
		}
	}
	if !strings.Contains(strings.Join(keysOf(after), " "), other) {
		t.Fatalf("PR 71's state %s is gone", other)
	}
	res, err = runCleanup(t, s, st, opts(), 7)
	if err != nil || res[0].Versions != 0 || !res[0].Removed() {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if d := Diff(after, Take(t, s)); len(d) > 0 {
		t.Fatalf("second run changed:\n%s", strings.Join(d, "\n"))
	}
}

// appliedTo: a resource not in the seed blocks deletion (nothing removed,
// the lock released) until --force.
func appliedTo(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	key := SeededPR(t, s, st, 9, 1)
	Put(t, s, key, StateJSON(9, Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.pr_only"))
	before := Take(t, s)
	res, err := runCleanup(t, s, st, opts(), 9)
	var oe *cleanup.OrphanError
	if !errors.As(err, &oe) || !slices.Equal(oe.Addresses, []string{"terraform_data.pr_only"}) {
		t.Fatalf("err %v, want OrphanError for terraform_data.pr_only", err)
	}
	if res[0].Removed() || !slices.Equal(res[0].Orphans, []string{"terraform_data.pr_only"}) || !strings.Contains(res[0].Skipped, "--force") {
		t.Fatalf("result %+v", res[0])
	}
	if d := Diff(before, Take(t, s)); len(d) > 0 {
		t.Fatalf("a refused cleanup changed the store (lock not released cleanly?):\n%s", strings.Join(d, "\n"))
	}
	o := opts()
	o.Force = true
	res, err = runCleanup(t, s, st, o, 9)
	if err != nil || !res[0].Removed() || res[0].Versions == 0 {
		t.Fatalf("--force: %+v, %v", res, err)
	}
	if d := Diff(before.Without(s.Bucket.Name(), key, key+".tflock"), Take(t, s)); len(d) > 0 {
		t.Fatalf("--force changed beyond the PR key:\n%s", strings.Join(d, "\n"))
	}
}

// unseeded: a PR state terraform created (own lineage, no seed) tracks only
// what was applied to it; an empty one is just removed.
func unseeded(t *testing.T, s Store) {
	st := Stack(t, s, false, true, false)
	Production(t, s)
	k1, _ := st.Keys.Render(11)
	Put(t, s, k1, StateJSON(1, "own-lineage", "terraform_data.a"))
	k2, _ := st.Keys.Render(12)
	Put(t, s, k2, StateJSON(1, "other-lineage"))
	res, err := runCleanup(t, s, st, opts(), 11, 12)
	var oe *cleanup.OrphanError
	if !errors.As(err, &oe) || oe.Key != k1 || !slices.Equal(oe.Addresses, []string{"terraform_data.a"}) {
		t.Fatalf("err %v", err)
	}
	if res[0].Removed() || !res[1].Removed() || res[1].Versions != 1 {
		t.Fatalf("results %+v", res)
	}
}

// unversioned: no seed version to read; the seed record written at seed
// time says what the seed brought (production is never read).
func unversioned(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	k := SeededPR(t, s, st, 13, 0)
	Put(t, s, k, StateJSON(9, Lineage, "terraform_data.a", "terraform_data.b"))
	k2 := SeededPR(t, s, st, 14, 0)
	Put(t, s, k2, StateJSON(9, Lineage, "terraform_data.a", "terraform_data.c"))
	k3, _ := st.Keys.Render(15) // terraform created it: its own lineage, no seed record
	Put(t, s, k3, StateJSON(1, "own-lineage", "terraform_data.a"))
	res, err := runCleanup(t, s, st, opts(), 13, 14, 15)
	var refused []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var oe *cleanup.OrphanError
			if errors.As(e, &oe) {
				refused = append(refused, oe.Key+"="+strings.Join(oe.Addresses, ","))
			}
		}
	}
	sort.Strings(refused)
	if want := []string{k2 + "=terraform_data.c", k3 + "=terraform_data.a"}; !slices.Equal(refused, want) {
		t.Fatalf("refused %v, want %v", refused, want)
	}
	if !res[0].Removed() || res[1].Removed() || res[2].Removed() {
		t.Fatalf("results %+v", res)
	}
	for _, key := range []string{k, statekey.SeedRecordKey(k)} {
		if _, err := s.Bucket.GetObject(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("PR 13's %s still there: %v", key, err)
		}
	}
	vs, _ := s.Bucket.ListObjectVersions(context.Background(), k)
	if len(vs) != 0 {
		t.Fatalf("left %+v", vs)
	}
}

// holdLock takes key's lock as a terraform run does (both kinds).
func holdLock(t *testing.T, s Store, key string) (release func()) {
	t.Helper()
	ctx := context.Background()
	info := applylock.LockInfo{ID: applylock.NewLockID(), Operation: "OperationTypePlan", Who: "runner@pr-plan", Version: "1.11.4", Created: time.Now().UTC(), Path: s.Bucket.Name() + "/" + key}
	if _, err := s.Bucket.PutObject(ctx, key+".tflock", info.Marshal(), storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	id := statekey.LockItemID(s.Bucket.Name(), key)
	if err := s.Table.PutItem(ctx, storage.Item{storage.KeyAttr: id, "Info": string(info.Marshal())}, storage.Condition{Absent: true}); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := s.Table.DeleteItem(ctx, id, storage.Condition{}); err != nil {
			t.Error(err)
		}
		if err := s.Bucket.DeleteObject(ctx, key+".tflock", ""); err != nil {
			t.Error(err)
		}
	}
}

// waitsForLock: cleanup waits for an in-flight plan's lock and then
// removes everything, the plan's lock versions included.
func waitsForLock(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	key := SeededPR(t, s, st, 15, 1)
	release := holdLock(t, s, key)
	o := opts()
	released := false
	releaseAt(o, 400*time.Millisecond, func() { released = true; release() })
	res, err := runCleanup(t, s, st, o, 15)
	if err != nil || !res[0].Removed() {
		t.Fatalf("%+v, %v", res, err)
	}
	if !released {
		t.Fatal("cleanup finished before the plan released its lock")
	}
	vs, _ := s.Bucket.ListObjectVersions(context.Background(), key)
	if len(vs) != 0 {
		t.Fatalf("left %+v", vs)
	}
	if _, err := s.Table.GetItem(context.Background(), statekey.LockItemID(s.Bucket.Name(), key)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("lock item left: %v", err)
	}
}

// lockTimeout: a lock held for the whole timeout is exit 3 and nothing of
// the PR (nor of the holder's lock) is touched.
func lockTimeout(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	key := SeededPR(t, s, st, 16, 1)
	holdLock(t, s, key)
	before := Take(t, s)
	o := opts()
	o.LockTimeout = 300 * time.Millisecond
	res, err := runCleanup(t, s, st, o, 16)
	var te *cleanup.StateLockTimeoutError
	if !errors.As(err, &te) || te.ExitCode() != 3 || te.Holder.Who != "runner@pr-plan" {
		t.Fatalf("err %v, want a lock timeout naming the holder", err)
	}
	if res[0].Removed() {
		t.Fatalf("result %+v", res[0])
	}
	if d := Diff(before, Take(t, s)); len(d) > 0 {
		t.Fatalf("a timed-out cleanup changed the store:\n%s", strings.Join(d, "\n"))
	}
}

// takesOver: a lock an earlier cleanup left (it died) does not block.
func takesOver(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	key := SeededPR(t, s, st, 17, 1)
	ctx := context.Background()
	info := applylock.LockInfo{ID: applylock.NewLockID(), Operation: "prstate-cleanup", Who: "dead cleanup", Created: time.Now().UTC()}
	if _, err := s.Bucket.PutObject(ctx, key+".tflock", info.Marshal(), storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Table.PutItem(ctx, storage.Item{storage.KeyAttr: statekey.LockItemID(s.Bucket.Name(), key), "Info": string(info.Marshal())}, storage.Condition{}); err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.LockTimeout = 2 * time.Second
	res, err := runCleanup(t, s, st, o, 17)
	if err != nil || !res[0].Removed() {
		t.Fatalf("%+v, %v", res, err)
	}
	if vs, _ := s.Bucket.ListObjectVersions(ctx, key); len(vs) != 0 {
		t.Fatalf("left %+v", vs)
	}
}

// partWay: the connection drops during the delete; the result says what is
// left, the lock is released, and a second run finishes.
func partWay(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	key := SeededPR(t, s, st, 18, 3)
	flaky := &FlakyBucket{Bucket: s.Bucket}
	flaky.Failures.Store(1)
	fs := Store{Bucket: flaky, Table: s.Table}
	res, err := runCleanup(t, fs, st, opts(), 18)
	if err == nil || res[0].Removed() || res[0].Left == 0 || res[0].Versions == 0 || !strings.Contains(res[0].Error, "run cleanup again") {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	// The lock was released: terraform (and the next cleanup) can go on.
	cur, err := s.Bucket.GetObject(context.Background(), key+".tflock")
	if err == nil {
		t.Fatalf("lock file left: %s", cur.Body)
	}
	res, err = runCleanup(t, fs, st, opts(), 18)
	if err != nil || !res[0].Removed() || res[0].Versions == 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if vs, _ := s.Bucket.ListObjectVersions(context.Background(), key); len(vs) != 0 {
		t.Fatalf("left %+v", vs)
	}
	if _, err := s.Table.GetItem(context.Background(), statekey.DigestID(s.Bucket.Name(), key)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("digest left: %v", err)
	}
}

// dryRun reports and writes nothing: 8 versions (state 3, .tflock 4, seed
// record 1).
func dryRun(t *testing.T, s Store) {
	st := Stack(t, s, true, true, false)
	Production(t, s)
	key := SeededPR(t, s, st, 19, 2)
	before := Take(t, s)
	o := opts()
	o.DryRun = true
	res, err := runCleanup(t, s, st, o, 19)
	if err != nil || !res[0].DryRun || res[0].Versions != 8 || !slices.Equal(res[0].Keys, []string{key, statekey.SeedRecordKey(key), key + ".tflock"}) ||
		!slices.Equal(res[0].Items, []string{statekey.DigestID(s.Bucket.Name(), key)}) {
		t.Fatalf("%+v, %v", res, err)
	}
	if d := Diff(before, Take(t, s)); len(d) > 0 {
		t.Fatalf("dry run changed the store:\n%s", strings.Join(d, "\n"))
	}
}

func keysOf(s Snapshot) []string {
	var out []string
	for k := range s {
		out = append(out, k)
	}
	return out
}
