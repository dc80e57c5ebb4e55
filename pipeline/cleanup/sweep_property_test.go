package cleanup_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/cleanup"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// closedList is a GitHub whose closed PRs are given, on pages of 100.
type closedList struct{ closed []int }

func (c closedList) ClosedPullRequests(_ context.Context, _ string, page int) ([]cleanup.ClosedPullRequest, int, error) {
	lo, hi := min((page-1)*100, len(c.closed)), min(page*100, len(c.closed))
	var out []cleanup.ClosedPullRequest
	for _, n := range c.closed[lo:hi] {
		out = append(out, cleanup.ClosedPullRequest{Number: n, UpdatedAt: time.Now().Add(time.Hour)})
	}
	next := 0
	if hi < len(c.closed) {
		next = page + 1
	}
	return out, next, nil
}

var (
	propDirs      = []string{"app", "infra", "pr-4", "pr", "env:", "a.b", "x-md5", "42"}
	propFiles     = []string{"terraform.tfstate", "state", "pr-4", "pr-4.tflock", "pr-4-md5", "7", "default.tfstate"}
	propTemplates = []string{
		statekey.DefaultKeyTemplate, "{dir}/pr-{pr}", "{key}.pr-{pr}", "{dir}/{pr}/{file}", "{dir}/pr{pr}.tfstate",
		"{key}-{pr}", "{dir}/previews/{pr}/{file}", "{dir}/pr-{pr}-md5", "{dir}/pr-{pr}.tflock", "{dir}/{pr}",
		"{dir}/pr-{pr}.prstate-apply", "{dir}/{file}.{pr}",
	}
)

// randomScheme picks a production key and a key scheme NewKeys accepts.
func randomScheme(r *rand.Rand) (statekey.Keys, string) {
	if r.IntN(4) == 0 {
		// Schemes where PR 4's lock file or digest is named like production's.
		pairs := [][2]string{{"app/pr-4.tflock", "{dir}/pr-{pr}"}, {"app/pr-4-md5", "{dir}/pr-{pr}"}, {"pr-4.tflock", "pr-{pr}"},
			{"app/x", "{key}.prstate-{pr}"}, {"app/pr-4.tflock", "{dir}/pr-{pr}/../pr-{pr}"}}
		p := pairs[r.IntN(len(pairs))]
		if k, err := statekey.NewKeys(p[0], p[1]); err == nil {
			return k, p[1]
		}
	}
	for {
		var segs []string
		for range r.IntN(3) {
			segs = append(segs, propDirs[r.IntN(len(propDirs))])
		}
		prod := strings.Join(append(segs, propFiles[r.IntN(len(propFiles))]), "/")
		if r.IntN(6) == 0 {
			k, err := statekey.NewWorkspaceKeys(prod, []string{"", "env:", "pr", "ws/x"}[r.IntN(4)])
			if err == nil {
				return k, "workspace"
			}
			continue
		}
		tpl := propTemplates[r.IntN(len(propTemplates))]
		if k, err := statekey.NewKeys(prod, tpl); err == nil {
			return k, tpl
		}
	}
}

// lookalikes are keys close to PR pr's key that must never be taken for it.
func lookalikes(k statekey.Keys, pr int) []string {
	key, _ := k.Render(pr)
	n := strconv.Itoa(pr)
	prefix, suffix, _ := strings.Cut(key, n) // the first occurrence: good enough for lookalikes
	return []string{
		prefix + "0" + n + suffix, prefix + n + "x" + suffix, prefix + n + "0" + suffix + ".bak",
		key + ".bak", key + "/extra", key + ".tflock.tflock", key + ".tfstate", "x" + key, key + "-md5",
		prefix + n, prefix + "-" + n + suffix, prefix + n + suffix + suffix,
	}
}

// TestSweepDeletesOnlyMatchedKeysOfClosedPRs is the safety property: over
// random production keys, templates and bucket contents (production objects,
// other PRs' objects, lookalikes), a sweep (with --force, the most it ever
// deletes) removes exactly the state, .tflock, digest and lock items of
// closed PRs' matched keys, and nothing else; never production's.
func TestSweepDeletesOnlyMatchedKeysOfClosedPRs(t *testing.T) {
	t.Parallel()
	iterations := 300
	if testing.Short() {
		iterations = 50
	}
	deleted, collisions := 0, 0
	for i := range iterations {
		seed := uint64(i)
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		keys, tpl := randomScheme(r)
		n, c, err := sweepProperty(t, r, keys)
		if err != nil {
			t.Fatalf("seed %d, production %q, template %q: %v", seed, keys.Production, tpl, err)
		}
		deleted, collisions = deleted+n, collisions+c
	}
	// The property is only worth something if sweeps did delete. Keys that
	// collide with production's names no longer come out of NewKeys (a PR
	// key differs from production in a whole path segment: checkSeparable),
	// so the collision guard (cleanup_guard.go) is a second fence here.
	if deleted < iterations {
		t.Fatalf("%d entries deleted, %d collisions refused in %d sweeps: the generator is too tame", deleted, collisions, iterations)
	}
	t.Logf("%d sweeps deleted %d entries and refused %d colliding PR keys", iterations, deleted, collisions)
}

func sweepProperty(t *testing.T, r *rand.Rand, keys statekey.Keys) (deleted, collisions int, _ error) {
	ctx := context.Background()
	b, tb := memstore.NewBucket("acme-state"), memstore.NewTable("tf-locks")
	s := cleanuptest.Store{Bucket: b, Table: tb}
	put := func(key string, versions int, marker bool) {
		for v := range versions {
			body := cleanuptest.StateJSON(v+1, "lineage-"+strconv.Itoa(r.IntN(3)), "terraform_data.x"+strconv.Itoa(r.IntN(3)))
			if _, err := b.PutObject(ctx, key, body, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if marker {
			if err := b.DeleteObject(ctx, key, ""); err != nil {
				t.Fatal(err)
			}
		}
		for i, id := range []string{statekey.DigestID("acme-state", key), statekey.LockItemID("acme-state", key)} {
			if r.IntN(2+4*i) == 0 { // digests often, a held lock now and then
				if err := tb.PutItem(ctx, storage.Item{storage.KeyAttr: id, "Digest": "d"}, storage.Condition{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	prod := keys.Production
	put(prod, 1+r.IntN(3), false)
	put(prod+".tflock", 1, r.IntN(2) == 0)
	put(prod+".prstate-apply.lock", 1, false)
	put(prod+".prstate-apply", 1, false)
	put(statekey.ReviewedPlanKey(prod, "latest"), 1, false) // never a PR's: stays
	prs := map[int]bool{4: true}
	for range 1 + r.IntN(12) {
		pr := []int{1, 4, 7, 40, 42, 420, 5, 9, 10, 100}[r.IntN(10)] + r.IntN(3)
		prs[pr] = true
	}
	var closed []int
	for pr := range prs {
		key, _ := keys.Render(pr)
		put(key, 1+r.IntN(3), false)
		if r.IntN(2) == 0 {
			put(key+".tflock", 1, true)
		}
		if r.IntN(2) == 0 { // a reviewed-plan record, without a state now and then
			put(statekey.ReviewedPlanKey(key, "latest"), 1+r.IntN(2), r.IntN(4) == 0)
		}
		if r.IntN(3) == 0 || (pr == 4 && r.IntN(2) == 0) {
			closed = append(closed, pr)
		}
		for _, l := range lookalikes(keys, pr) {
			if statekey.ValidateKey(l) == nil && r.IntN(3) > 0 {
				put(l, 1, r.IntN(4) == 0)
			}
		}
	}
	// Closed PRs that have no state, and PRs close to the closed ones.
	closed = append(closed, 3, 34, 41, 421)
	if k41, err := keys.Render(41); err == nil && !prs[41] { // records only: planned without a seed
		put(statekey.ReviewedPlanKey(k41, strings.Repeat("a", 40)), 1, false)
	}
	before := cleanuptest.Take(t, s)
	st := statekey.Stack{Dir: "/w", Backend: backend.Backend{Bucket: "acme-state", DynamoDBTable: "tf-locks", UseLockfile: r.IntN(2) == 0}, Keys: keys}
	opts := cleanup.SweepOptions{
		Cleanup: cleanup.Options{Force: true, LockTimeout: 20 * time.Millisecond, Poll: 5 * time.Millisecond},
		Pulls:   closedList{closed: closed}, Repo: "acme/infra",
	}
	rep, err := cleanup.Sweep(ctx, []cleanup.SweepTarget{{Stack: st, Bucket: b, Table: tb}}, opts)
	after := cleanuptest.Take(t, s)

	// What may go: all of a closed PR's key, lock file and reviewed-plan
	// records, its two items. A sweep finds a PR state by a current object
	// at its key, lock file or record.
	current := map[string]bool{}
	for k, v := range before {
		if strings.HasPrefix(k, "s3:") && strings.Contains(v, "marker=false latest=true") {
			current[k[:strings.LastIndex(k, "@")]] = true
		}
	}
	allowed := map[string]int{}
	for _, pr := range closed {
		key, err := keys.Render(pr)
		hasRecord := false
		for k := range current {
			hasRecord = hasRecord || strings.HasPrefix(k, "s3:"+key+statekey.ReviewedPlanInfix)
		}
		if err != nil || (!current["s3:"+key] && !current["s3:"+key+".tflock"] && !hasRecord) {
			continue
		}
		if m, ok := keys.Match(key); !ok || m != pr {
			continue // the template renders production's key for this PR: never a PR key
		}
		allowed["s3:"+key] = pr
		allowed["s3:"+key+".tflock"] = pr
		allowed["ddb:"+statekey.DigestID("acme-state", key)] = pr
		allowed["ddb:"+statekey.LockItemID("acme-state", key)] = pr
	}
	skipped, locked := map[int]bool{}, map[int]bool{}
	for _, res := range rep.Results {
		if !res.Removed() {
			skipped[res.PR] = true
		}
		if strings.HasPrefix(res.Skipped, "locked by ") {
			locked[res.PR] = true // held lock: skipped at once, reported, not an error
		}
		if strings.Contains(res.Skipped, "collide") {
			collisions++
		}
	}
	// Production's own names are never deleted, whatever the template.
	prodNames := map[string]bool{
		"s3:" + prod: true, "s3:" + prod + ".tflock": true, "s3:" + prod + ".prstate-apply.lock": true,
		"ddb:" + statekey.LockItemID("acme-state", prod): true, "ddb:" + statekey.DigestID("acme-state", prod): true,
		"ddb:" + statekey.LockItemID("acme-state", prod+".prstate-apply"): true,
	}
	for name := range prodNames {
		delete(allowed, name)
	}
	for _, d := range cleanuptest.Diff(before, after) {
		entry := strings.TrimPrefix(d, "missing ")
		if entry == d {
			return 0, 0, fmt.Errorf("sweep wrote something: %s", d)
		}
		base := recordOwner(entry)
		pr, ok := allowed[base]
		if !ok {
			return 0, 0, fmt.Errorf("deleted %s, which belongs to no closed PR's key (sweep err %v)", entry, err)
		}
		if skipped[pr] {
			return 0, 0, fmt.Errorf("deleted %s of PR #%d, which the sweep reports as skipped", entry, pr)
		}
		deleted++
	}
	// And everything allowed of a PR not skipped is gone.
	for k := range after {
		base := recordOwner(k)
		if pr, ok := allowed[base]; ok && !skipped[pr] {
			return 0, 0, fmt.Errorf("left %s of closed PR #%d", k, pr)
		}
	}
	if rep.Locked != len(locked) {
		return 0, 0, fmt.Errorf("report counts %d locked, results say %d", rep.Locked, len(locked))
	}
	for pr := range skipped {
		if err == nil && !locked[pr] {
			return 0, 0, fmt.Errorf("PR #%d skipped without an error", pr)
		}
	}
	return deleted, collisions, nil
}

// recordOwner is the name an entry of a snapshot belongs to: its key
// without the version, and a reviewed-plan record's PR key.
func recordOwner(entry string) string {
	if !strings.HasPrefix(entry, "s3:") {
		return entry
	}
	base := entry[:strings.LastIndex(entry, "@")]
	if prKey, _, ok := strings.Cut(base, statekey.ReviewedPlanInfix); ok {
		return prKey
	}
	return base
}
