package cleanup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// cleanupOperation is the Operation of the Terraform lock cleanup takes.
// A lock with it was left by an earlier cleanup of the same PR state that
// died; cleanup is idempotent, so a new run takes such a lock over.
const cleanupOperation = "prstate-cleanup"

// lockHolderEvery is how often a waiting cleanup says who holds the lock.
const lockHolderEvery = 15 * time.Second

// stateLock is the Terraform lock of a PR state that cleanup holds: the
// S3 lock file, the DynamoDB item, or both, as the backend uses them.
type stateLock struct {
	info   applylock.LockInfo
	body   []byte // info, encoded exactly as Terraform does
	s3     bool   // holds key.tflock
	dynamo bool   // holds the LockID item
	marker bool   // release the lock file with a delete marker (see deleteVersions)
}

// StateLockTimeoutError is returned when the PR state stayed locked for the whole
// --lock-timeout. Exit 3.
type StateLockTimeoutError struct {
	Key    string
	Waited time.Duration
	Holder applylock.LockInfo // zero when it could not be read
}

func (e *StateLockTimeoutError) Error() string {
	h := e.Holder
	if h.ID == "" {
		return fmt.Sprintf("PR state %s stayed locked for %s; run cleanup again when the PR's terraform run is done", escape.Log(e.Key), e.Waited)
	}
	return fmt.Sprintf("PR state %s stayed locked for %s by %s; if that run is gone, `terraform force-unlock %s` and run cleanup again",
		escape.Log(e.Key), e.Waited, h.Describe(), escape.Shell(h.ID))
}

// ExitCode is 3: a lock wait timed out.
func (e *StateLockTimeoutError) ExitCode() int { return 3 }

// LockedError says that, with NoLockWait (a sweep), a PR state whose Terraform lock
// someone else holds is skipped at once: kept and reported, not an error;
// the next sweep tries again.
type LockedError struct {
	Key    string
	Holder applylock.LockInfo // zero when it could not be read
}

func (e *LockedError) Error() string {
	if e.Holder.ID == "" {
		return fmt.Sprintf("PR state %s is locked: skipped, the next sweep tries again", escape.Log(e.Key))
	}
	return fmt.Sprintf("PR state %s is locked by %s: skipped, the next sweep tries again; if that run is gone, `terraform force-unlock %s`",
		escape.Log(e.Key), e.Holder.Describe(), escape.Shell(e.Holder.ID))
}

func (*LockedError) refused() {}

// usesS3Lock and usesDynamoLock tell which of the backend's locks cleanup
// takes. With both configured, Terraform needs both and gives back a
// half-taken pair, so holding the DynamoDB item alone keeps every
// Terraform run out, at one request per PR state instead of two.
func (c *cleaner) usesS3Lock() bool     { return c.st.Backend.UseLockfile && c.store.Table == nil }
func (c *cleaner) usesDynamoLock() bool { return c.store.Table != nil }

// newLock is the lock record cleanup writes for key, not yet taken.
func (c *cleaner) newLock(key string) *stateLock {
	info := applylock.LockInfo{
		ID:        applylock.NewLockID(),
		Operation: cleanupOperation,
		Info:      "prstate removes the state of a closed pull request",
		Who:       c.opts.Who,
		Version:   c.opts.Version,
		Created:   c.opts.Clock.Now().UTC(),
		Path:      c.store.Bucket.Name() + "/" + key,
	}
	return &stateLock{info: info, body: info.Marshal()}
}

// held tells whether l holds every lock the backend takes.
func (c *cleaner) held(l *stateLock) bool {
	return l.s3 == c.usesS3Lock() && l.dynamo == c.usesDynamoLock()
}

// lockAll takes the lock of every job: one attempt each, Parallel at a
// time; then whoever found its lock held waits for it, all at once and up
// to one deadline, so that many held locks cost one LockTimeout, not one
// each.
func (c *cleaner) lockAll(ctx context.Context, jobs []*cleanupJob) {
	if !c.usesS3Lock() && !c.usesDynamoLock() {
		return // the backend does not lock: neither does Terraform
	}
	var waiters []*cleanupJob
	var mu sync.Mutex
	c.each(ctx, jobs, func(ctx context.Context, j *cleanupJob) {
		l := c.newLock(j.key)
		err := c.lock(ctx, j.key, l, time.Time{})
		var te *StateLockTimeoutError
		switch {
		case errors.As(err, &te) && c.opts.NoLockWait:
			le := &LockedError{Key: j.key, Holder: te.Holder}
			c.opts.Logf("%s", le.Error())
			c.skip(j, "locked by "+lockHolderText(te.Holder)+"; the next sweep tries again", le)
		case errors.As(err, &te):
			mu.Lock()
			waiters = append(waiters, j)
			mu.Unlock()
		case err != nil:
			c.fail(j, err)
		default:
			j.lock = l
		}
	})
	deadline := c.opts.Clock.Now().Add(c.opts.LockTimeout)
	var wg sync.WaitGroup
	for _, j := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := c.newLock(j.key)
			if err := c.lock(ctx, j.key, l, deadline); err != nil {
				c.fail(j, err)
				return
			}
			j.lock = l
		}()
	}
	wg.Wait()
}

// lockHolderText names who holds a lock, for a skipped result.
func lockHolderText(h applylock.LockInfo) string {
	if h.ID == "" {
		return "another holder"
	}
	return h.Describe()
}

// lock takes the PR state's Terraform lock the way Terraform does: the S3
// lock file first (use_lockfile), then the DynamoDB item (a table is set).
// It waits until deadline while another holder has it (zero: one
// attempt), on the options' clock; on failure it gives up what it took.
func (c *cleaner) lock(ctx context.Context, key string, l *stateLock, deadline time.Time) error {
	useS3, useTable := c.usesS3Lock(), c.usesDynamoLock()
	clk := c.opts.Clock
	start := clk.Now()
	lastSaid := time.Time{}
	for {
		var holder applylock.LockInfo
		var err error
		if useS3 && !l.s3 {
			l.s3, holder, err = c.lockS3(ctx, key, l)
		}
		if err == nil && useTable && !l.dynamo && (l.s3 || !useS3) {
			l.dynamo, holder, err = c.lockDynamo(ctx, statekey.LockItemID(c.store.Bucket.Name(), key), l)
		}
		if err != nil {
			c.release(ctx, key, l)
			return err
		}
		if c.held(l) {
			return nil
		}
		now := clk.Now()
		if !now.Before(deadline) {
			// Terraform undoes a half-taken pair; so do we.
			c.release(ctx, key, l)
			return &StateLockTimeoutError{Key: key, Waited: now.Sub(start).Round(time.Millisecond), Holder: holder}
		}
		if now.Sub(lastSaid) >= lockHolderEvery {
			c.opts.Logf("%s is locked by %s; waiting up to %s", escape.Log(key), holder.Describe(), deadline.Sub(now).Round(time.Second))
			lastSaid = now
		}
		if err := clk.Sleep(ctx, min(c.opts.Poll, deadline.Sub(now))); err != nil {
			c.release(ctx, key, l)
			return fmt.Errorf("failed to lock %s: %w", key, err)
		}
	}
}

// lockS3 tries once to create key.tflock (If-None-Match: *). When it
// exists it returns the holder, or takes over a lock an earlier cleanup left.
func (c *cleaner) lockS3(ctx context.Context, key string, l *stateLock) (bool, applylock.LockInfo, error) {
	file := key + ".tflock"
	_, err := c.store.Bucket.PutObject(ctx, file, l.body, storage.PutOptions{IfNoneMatch: true})
	if err == nil {
		return true, applylock.LockInfo{}, nil
	}
	if !errors.Is(err, storage.ErrPrecondition) {
		return false, applylock.LockInfo{}, fmt.Errorf("failed to lock %s: %w", file, err)
	}
	cur, err := c.store.Bucket.GetObject(ctx, file)
	if errors.Is(err, storage.ErrNotFound) {
		return false, applylock.LockInfo{}, nil // released meanwhile: try again
	}
	if err != nil {
		return false, applylock.LockInfo{}, fmt.Errorf("failed to read the lock %s: %w", file, err)
	}
	holder, _ := applylock.ParseLockInfo(cur.Body)
	if holder.Operation != cleanupOperation {
		return false, holder, nil
	}
	_, err = c.store.Bucket.PutObject(ctx, file, l.body, storage.PutOptions{IfMatch: cur.ETag})
	if err == nil {
		c.opts.Logf("%s: took over the lock an earlier cleanup left: %s", escape.Log(key), holder.Describe())
		return true, applylock.LockInfo{}, nil
	}
	if errors.Is(err, storage.ErrPrecondition) {
		return false, holder, nil
	}
	return false, holder, fmt.Errorf("failed to lock %s: %w", file, err)
}

// lockDynamo tries once to create the lock item (attribute_not_exists).
func (c *cleaner) lockDynamo(ctx context.Context, id string, l *stateLock) (bool, applylock.LockInfo, error) {
	item := storage.Item{storage.KeyAttr: id, "Info": string(l.body)}
	err := c.store.Table.PutItem(ctx, item, storage.Condition{Absent: true})
	if err == nil {
		return true, applylock.LockInfo{}, nil
	}
	if !errors.Is(err, storage.ErrPrecondition) {
		return false, applylock.LockInfo{}, fmt.Errorf("failed to lock %s: %w", id, err)
	}
	cur, err := c.store.Table.GetItem(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, applylock.LockInfo{}, nil
	}
	if err != nil {
		return false, applylock.LockInfo{}, fmt.Errorf("failed to read the lock %s: %w", id, err)
	}
	holder, _ := applylock.ParseLockInfo([]byte(cur["Info"]))
	if holder.Operation != cleanupOperation {
		return false, holder, nil
	}
	err = c.store.Table.PutItem(ctx, item, storage.Condition{Attr: "Info", Equals: cur["Info"]})
	if err == nil {
		c.opts.Logf("%s: took over the lock %s an earlier cleanup left (%s)", id, holder.ID, holder.Who)
		return true, applylock.LockInfo{}, nil
	}
	if errors.Is(err, storage.ErrPrecondition) {
		return false, holder, nil
	}
	return false, holder, fmt.Errorf("failed to lock %s: %w", id, err)
}

// unlock releases the lock a job still holds (cleanup stopped early).
func (c *cleaner) unlock(ctx context.Context, j *cleanupJob) {
	if j.lock != nil {
		c.release(ctx, j.key, j.lock)
	}
}

// release gives up what l holds: the DynamoDB item on the condition that
// it is still ours, then the lock file, removing our version for good so
// no delete marker is left. Failures are logged: the next cleanup takes
// over a lock of its own kind.
func (c *cleaner) release(ctx context.Context, key string, l *stateLock) {
	ctx = context.WithoutCancel(ctx)
	if l.dynamo {
		id := statekey.LockItemID(c.store.Bucket.Name(), key)
		err := c.store.Table.DeleteItem(ctx, id, storage.Condition{Attr: "Info", Equals: string(l.body)})
		if err != nil && !errors.Is(err, storage.ErrPrecondition) {
			c.opts.Logf("failed to release the lock %s: %v", id, err)
		} else {
			l.dynamo = false
		}
	}
	if l.s3 {
		file := key + ".tflock"
		cur, err := c.store.Bucket.GetObject(ctx, file)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			l.s3 = false
		case err != nil:
			c.opts.Logf("failed to release the lock %s: %v", file, err)
		default:
			holder, _ := applylock.ParseLockInfo(cur.Body)
			if holder.ID != l.info.ID {
				c.opts.Logf("lock %s is no longer ours (held by %s): left alone", escape.Log(file), holder.Describe())
				l.s3 = false
				return
			}
			if cur.VersionID != "" && !l.marker {
				err = c.store.Bucket.DeleteObjectVersions(ctx, []storage.ObjectVersion{{Key: file, VersionID: cur.VersionID}})
			} else {
				err = c.store.Bucket.DeleteObject(ctx, file, cur.ETag)
			}
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				c.opts.Logf("failed to release the lock %s: %v", file, err)
				return
			}
			l.s3 = false
		}
	}
}
