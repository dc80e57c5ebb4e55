// Package cleanup removes a closed pull request's state and everything
// beside it, guarded so it never reaches production's (cleanup_guard.go),
// and sweeps the states of closed PRs. See ARCHITECTURE.md.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// Bucket is the part of a bucket cleanup uses.
type Bucket interface {
	Name() string
	GetObject(ctx context.Context, key string) (storage.Object, error)
	PutObject(ctx context.Context, key string, body []byte, opts storage.PutOptions) (string, error)
	DeleteObject(ctx context.Context, key, ifMatch string) error
	GetObjectVersion(ctx context.Context, key, versionID string) (storage.Object, error)
	ListObjectVersions(ctx context.Context, prefix string) ([]storage.ObjectVersion, error)
	DeleteObjectVersions(ctx context.Context, versions []storage.ObjectVersion) error
}

// Table is the part of a lock table cleanup uses.
type Table interface {
	GetItem(ctx context.Context, lockID string) (storage.Item, error)
	PutItem(ctx context.Context, item storage.Item, cond storage.Condition) error
	DeleteItem(ctx context.Context, lockID string, cond storage.Condition) error
	DeleteItems(ctx context.Context, lockIDs []string) error
}

// Store is one stack's bucket and table (nil without a table).
type Store struct {
	Bucket Bucket
	Table  Table
}

// Options tune a cleanup.
type Options struct {
	LockTimeout time.Duration // how long to wait for the PR state's lock
	Force       bool          // delete PR states that were applied to
	DryRun      bool          // read and report, write nothing
	Who         string        // LockInfo.Who of the lock cleanup takes
	Version     string        // LockInfo.Version
	Logf        func(format string, args ...any)
	Poll        time.Duration // between lock attempts (default 1s)
	Parallel    int           // concurrent per-PR requests (default 16)
	Clock       clock.Clock   // the lock waits and the lock's Created (default clock.Real)
	// Population is how many objects lie under the key scheme's list
	// prefix, when the caller knows (a sweep does). With many PRs out of a
	// small population one listing of the prefix is cheaper than one per key.
	Population int
	// NoLockWait: a PR state whose Terraform lock another holder has is
	// skipped at once (LockedError), not waited for (a sweep).
	NoLockWait bool
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 16
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Who == "" {
		o.Who = "prstate cleanup"
	}
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	return o
}

// Result says what cleanup did (or, dry, would do) to one PR state.
type Result struct {
	Stack    string   `json:"stack,omitempty"`
	PR       int      `json:"pr"`
	Key      string   `json:"key"`
	Reason   string   `json:"reason,omitempty"` // sweep: why this PR state was picked
	Keys     []string `json:"keys"`             // object keys whose versions were removed
	Versions int      `json:"versions_removed"` // versions and delete markers
	Bytes    int64    `json:"bytes_freed"`
	Items    []string `json:"items_removed"` // DynamoDB LockIDs (digest, lock)
	Left     int      `json:"versions_left,omitempty"`
	Skipped  string   `json:"skipped,omitempty"`
	Orphans  []string `json:"orphans,omitempty"` // resources the PR state was applied to
	DryRun   bool     `json:"dry_run,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Removed tells whether the PR state is gone (or, dry, would be).
func (r Result) Removed() bool { return r.Skipped == "" && r.Error == "" }

// cleanupJob is one PR state going through the steps.
type cleanupJob struct {
	res      *Result
	key      string
	lock     *stateLock
	versions []storage.ObjectVersion // of key, key.tflock and the seed record only
	ownLock  *storage.ObjectVersion  // the .tflock version we hold, removed last
	failed   bool
}

// cleaner runs the steps for one stack.
type cleaner struct {
	store Store
	st    statekey.Stack
	opts  Options

	mu   sync.Mutex // guards errs and results written by parallel steps
	errs []error

	prodOnce  sync.Once
	prodETags map[string]bool // ETags of production's versions, listed once
}

// fail records that j stopped with err.
func (c *cleaner) fail(j *cleanupJob, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	j.failed = true
	j.res.Error = err.Error()
	c.errs = append(c.errs, err)
}

// skip records that j is left alone for a reason (err says why).
func (c *cleaner) skip(j *cleanupJob, reason string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	j.failed = true
	j.res.Skipped = reason
	c.errs = append(c.errs, err)
}

// Run removes everything the given PRs' states left in one stack:
// every version and delete marker of the state object and of its .tflock,
// the md5 digest item and the lock item. Per PR it first takes the state's
// own Terraform lock (waiting up to LockTimeout, so an in-flight plan
// finishes) and refuses a state that was applied to unless Force. Requests
// are batched across PRs. A missing object is fine; what failed is in the
// results and the joined error, and a second run finishes the job.
func Run(ctx context.Context, store Store, st statekey.Stack, prs []int, opts Options) ([]Result, error) {
	c := &cleaner{store: store, st: st, opts: opts.withDefaults()}
	jobs := make([]*cleanupJob, 0, len(prs))
	results := make([]Result, len(prs))
	for i, pr := range prs {
		key, err := st.Keys.Render(pr)
		if err != nil {
			return nil, err
		}
		results[i] = Result{Stack: st.Dir, PR: pr, Key: key, Keys: []string{}, Items: []string{}, DryRun: c.opts.DryRun}
		j := &cleanupJob{res: &results[i], key: key}
		if err := ownedNames(st.Keys, pr, key); err != nil {
			c.skip(j, err.Error(), err)
		}
		jobs = append(jobs, j)
	}
	if !c.opts.DryRun {
		c.lockAll(ctx, live(jobs))
	}
	if err := c.listVersions(ctx, live(jobs)); err != nil {
		for _, j := range live(jobs) {
			c.fail(j, err)
			c.unlock(ctx, j)
		}
	}
	c.each(ctx, jobs, func(ctx context.Context, j *cleanupJob) {
		v, err := c.orphans(ctx, j)
		if err != nil {
			c.fail(j, err)
			c.unlock(ctx, j)
			return
		}
		j.res.Orphans = v.added
		if c.opts.Force {
			return
		}
		switch {
		case v.unknown != "":
			e := &CannotTellError{Key: j.key, Reason: v.unknown, Tool: toolName(c.st.Dir, v.encrypted)}
			c.skip(j, "cannot tell: "+v.unknown+"; check with "+StateListCommand(e.Tool)+" (pass --force to delete anyway)", e)
			c.unlock(ctx, j)
		case len(v.added) > 0:
			e := &OrphanError{Key: j.key, Addresses: v.added, Tool: toolName(c.st.Dir, v.encrypted)}
			c.skip(j, fmt.Sprintf("applied to: %d resource(s) the PR added would be orphaned; destroy them with %s (pass --force to delete anyway)", len(v.added), DestroyCommand(e.Tool, v.added)), e)
			c.unlock(ctx, j)
		}
	})
	if c.opts.DryRun {
		c.dryItems(ctx, live(jobs))
		return results, errors.Join(c.errs...)
	}
	c.deleteVersions(ctx, live(jobs))
	c.deleteItems(ctx, live(jobs))
	c.releaseOwnLocks(ctx, live(jobs))
	return results, errors.Join(c.errs...)
}

// live returns the jobs still going.
func live(jobs []*cleanupJob) []*cleanupJob {
	var out []*cleanupJob
	for _, j := range jobs {
		if !j.failed {
			out = append(out, j)
		}
	}
	return out
}

// each runs fn for the live jobs, at most Parallel at a time.
func (c *cleaner) each(ctx context.Context, jobs []*cleanupJob, fn func(context.Context, *cleanupJob)) {
	sem := make(chan struct{}, c.opts.Parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if j.failed {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, j)
		}()
	}
	wg.Wait()
}

// listVersions finds every version and delete marker of each job's key,
// key.tflock and seed record: one listing of the exact key per job (the key
// as prefix, then only those three exact keys kept), or one listing of the scheme's prefix for
// many PRs out of a small population.
func (c *cleaner) listVersions(ctx context.Context, jobs []*cleanupJob) error {
	if len(jobs) == 0 {
		return nil
	}
	byKey := make(map[string]*cleanupJob, 2*len(jobs))
	for _, j := range jobs {
		byKey[j.key] = j
		byKey[j.key+".tflock"] = j
		byKey[statekey.SeedRecordKey(j.key)] = j
		j.versions = nil
	}
	keep := func(vs []storage.ObjectVersion) {
		for _, v := range vs {
			j, ok := byKey[v.Key]
			if !ok {
				// The PR's reviewed-plan records (statekey.ReviewedPlanKey).
				if prKey, _, found := strings.Cut(v.Key, statekey.ReviewedPlanInfix); found {
					j, ok = byKey[prKey]
				}
			}
			if ok {
				j.versions = append(j.versions, v)
			}
		}
	}
	if prefix := c.st.Keys.ListPrefix(); c.batch(jobs) && c.opts.Population > 0 && c.opts.Population <= 10*len(jobs) && prefix != "" {
		vs, err := c.store.Bucket.ListObjectVersions(ctx, prefix)
		if err != nil {
			return fmt.Errorf("failed to list the versions under %s: %w", prefix, err)
		}
		keep(vs)
		return nil
	}
	var errs []error
	c.each(ctx, jobs, func(ctx context.Context, j *cleanupJob) {
		vs, err := c.store.Bucket.ListObjectVersions(ctx, j.key)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to list the versions of %s: %w", j.key, err))
			return
		}
		keep(vs) // the key is a prefix: keep drops other keys sharing it
	})
	return errors.Join(errs...)
}

// batchMin is from how many PR states on cleanup works in batches where
// that costs a request or two up front (one listing of the key scheme's
// prefix, one of production's versions) and saves one per PR.
const batchMin = 32

func (c *cleaner) batch(jobs []*cleanupJob) bool { return len(jobs) >= batchMin }

// deleteVersions removes every version of the jobs' keys but the lock
// versions cleanup holds, batched across jobs: first the noncurrent
// versions, then the current ones. Removing a current delete marker while
// older versions remain would bring an old .tflock (a lock) or state back
// to life; in this order a failure part-way never does. On failure it lists
// again to report what is left and releases the lock.
func (c *cleaner) deleteVersions(ctx context.Context, jobs []*cleanupJob) {
	var old, cur []storage.ObjectVersion
	for _, j := range jobs {
		if j.lock != nil && j.lock.s3 {
			for i, v := range j.versions {
				if v.Key == j.key+".tflock" && v.IsLatest && !v.DeleteMarker {
					j.ownLock = &j.versions[i]
					break
				}
			}
		}
		for _, v := range j.versions {
			switch {
			case j.ownLock != nil && v.VersionID == j.ownLock.VersionID && v.Key == j.ownLock.Key:
			case v.IsLatest:
				cur = append(cur, v)
			default:
				old = append(old, v)
			}
		}
	}
	var err error
	if len(old) > 0 {
		err = c.store.Bucket.DeleteObjectVersions(ctx, old)
	}
	if err == nil && len(cur) > 0 {
		err = c.store.Bucket.DeleteObjectVersions(ctx, cur)
	}
	if err == nil {
		for _, j := range jobs {
			c.account(j, nil)
		}
		return
	}
	// Part of it failed: what is still there was not removed.
	err = fmt.Errorf("failed to delete PR state versions: %w", err)
	before := make(map[*cleanupJob][]storage.ObjectVersion, len(jobs))
	for _, j := range jobs {
		before[j] = j.versions
	}
	if lerr := c.listVersions(ctx, jobs); lerr != nil {
		err = errors.Join(err, lerr)
	}
	for _, j := range jobs {
		left := map[[2]string]bool{}
		for _, v := range j.versions {
			left[[2]string{v.Key, v.VersionID}] = true
		}
		j.versions = before[j]
		c.account(j, left)
		if j.res.Left > 0 {
			c.fail(j, fmt.Errorf("%s: %d version(s) not removed, run cleanup again: %w", j.key, j.res.Left, err))
			if j.lock != nil {
				// Older lock versions may lie under ours now: cover it
				// with a delete marker rather than expose them.
				j.lock.marker = true
			}
			c.unlock(ctx, j)
		}
	}
}

// account fills the result with the versions removed: all but those left
// and the lock version cleanup itself wrote.
func (c *cleaner) account(j *cleanupJob, left map[[2]string]bool) {
	keys := map[string]bool{}
	for _, v := range j.versions {
		if j.ownLock != nil && v.Key == j.ownLock.Key && v.VersionID == j.ownLock.VersionID {
			continue
		}
		if left[[2]string{v.Key, v.VersionID}] {
			j.res.Left++
			continue
		}
		j.res.Versions++
		j.res.Bytes += v.Size
		keys[v.Key] = true
	}
	for k := range keys {
		j.res.Keys = append(j.res.Keys, k)
	}
	sort.Strings(j.res.Keys)
}

// deleteItems removes the digest and lock items of the jobs in batches.
// The lock item is the one cleanup holds: deleting it releases it.
func (c *cleaner) deleteItems(ctx context.Context, jobs []*cleanupJob) {
	if c.store.Table == nil || len(jobs) == 0 {
		return
	}
	bucket := c.store.Bucket.Name()
	ids := make([]string, 0, 2*len(jobs))
	for _, j := range jobs {
		ids = append(ids, statekey.DigestID(bucket, j.key), statekey.LockItemID(bucket, j.key))
	}
	// Reported: the items the PR state left, as the dry run reports them
	// (not the lock item cleanup itself holds).
	present := map[*cleanupJob][]string{}
	c.each(ctx, jobs, func(ctx context.Context, j *cleanupJob) {
		ids := c.presentItems(ctx, j)
		c.mu.Lock()
		present[j] = ids
		c.mu.Unlock()
	})
	if err := c.store.Table.DeleteItems(ctx, ids); err != nil {
		err = fmt.Errorf("failed to delete digest and lock items: %w", err)
		for _, j := range jobs {
			c.fail(j, fmt.Errorf("%s: the object versions are removed but not its DynamoDB items, run cleanup again: %w", j.key, err))
			if j.lock != nil {
				j.lock.dynamo = false // the item may be gone; a later cleanup takes over what is left
			}
			c.unlock(ctx, j)
		}
		return
	}
	for _, j := range jobs {
		j.res.Items = append(j.res.Items, present[j]...)
		if j.lock != nil {
			j.lock.dynamo = false
		}
	}
}

// presentItems returns the digest and lock items of j's key that exist,
// leaving out the lock item cleanup holds itself: what the PR state left.
func (c *cleaner) presentItems(ctx context.Context, j *cleanupJob) []string {
	bucket := c.store.Bucket.Name()
	var out []string
	for _, id := range []string{statekey.DigestID(bucket, j.key), statekey.LockItemID(bucket, j.key)} {
		if id == statekey.LockItemID(bucket, j.key) && j.lock != nil && j.lock.dynamo {
			continue
		}
		if _, err := c.store.Table.GetItem(ctx, id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// releaseOwnLocks removes the .tflock versions cleanup held, by version,
// so the release leaves no delete marker behind.
func (c *cleaner) releaseOwnLocks(ctx context.Context, jobs []*cleanupJob) {
	var own []storage.ObjectVersion
	for _, j := range jobs {
		if j.ownLock != nil {
			own = append(own, *j.ownLock)
		}
	}
	if len(own) > 0 {
		if err := c.store.Bucket.DeleteObjectVersions(ctx, own); err != nil {
			err = fmt.Errorf("failed to release the S3 lock files cleanup held: %w", err)
			for _, j := range jobs {
				if j.ownLock != nil {
					c.fail(j, fmt.Errorf("%s.tflock: %w; run cleanup again", j.key, err))
				}
			}
			own = nil // each is tried once more below, the slow way
		}
	}
	for _, j := range jobs {
		if j.lock != nil && j.ownLock != nil && own != nil {
			j.lock.s3 = false
		}
		// A lock whose version the listing did not show is released the
		// slow way: read it, check it is ours, delete that version.
		c.unlock(ctx, j)
	}
}

// dryItems reports which digest and lock items exist (dry run).
func (c *cleaner) dryItems(ctx context.Context, jobs []*cleanupJob) {
	for _, j := range jobs {
		c.account(j, nil)
	}
	if c.store.Table == nil {
		return
	}
	c.each(ctx, jobs, func(ctx context.Context, j *cleanupJob) {
		ids := c.presentItems(ctx, j)
		c.mu.Lock()
		j.res.Items = append(j.res.Items, ids...)
		c.mu.Unlock()
	})
}
