package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"

	"github.com/prstate/prstate/pipeline/storage"
)

// impossibleETag is an ETag no object has (it is not the MD5 of anything
// S3 would store): a write conditional on it is refused without effect.
const impossibleETag = `"00000000000000000000000000000000"`

// conditionResult is what the scratch object showed of the server.
type conditionResult struct {
	ran         bool   // the scratch object was written
	reason      string // why not, when it did not run
	putIfMatch  bool   // PUT If-Match is honoured (also on an absent key)
	delIfMatch  bool   // DELETE If-Match is honoured (also on an absent key)
	createsOnce bool   // PUT If-None-Match is honoured
}

// ScratchPrefix is where doctor writes beside a state key:
// <dir>/.prstate-doctor/.
func ScratchPrefix(stateKey string) string {
	if dir := path.Dir(stateKey); dir != "." && dir != "/" {
		return dir + "/.prstate-doctor/"
	}
	return ".prstate-doctor/"
}

func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// s3LockUsed tells whether this stack locks through S3 conditional
// writes (Terraform's use_lockfile, or prstate's apply lock on S3).
func (c *checker) s3LockUsed() bool { return c.t.LockBackend == "s3" || c.b.UseLockfile }

// condStatus is the status of a conditional write the server gets wrong:
// a failure where the stack locks on S3, a warning where it does not.
func (c *checker) condStatus() (Status, string) {
	if c.s3LockUsed() {
		return Fail, ""
	}
	return Warn, " (this stack locks in DynamoDB and sets no use_lockfile: not used)"
}

const condFix = "Terraform's use_lockfile and prstate's S3 apply lock need it: set a dynamodb-table (lock-backend dynamodb) and no use_lockfile, or use a server with S3 conditional writes"

// conditionalWrites checks create (If-None-Match), replace (If-Match)
// and delete (If-Match) on a scratch object, then removes every version
// of it.
func (c *checker) conditionalWrites(ctx context.Context) {
	if c.noBucket {
		c.cond.reason = "the bucket is unreachable"
		return
	}
	name := c.o.Scratch
	if name == "" {
		name = randomName()
	}
	key := ScratchPrefix(c.b.Key) + name
	absent := key + "-absent"
	defer c.removeScratch(ctx, key, absent)
	where := "s3://" + c.b.Bucket + "/" + key
	bad, note := c.condStatus()
	fix := condFix // none where the stack does not lock on S3
	if bad != Fail {
		fix = ""
	}

	etag, err := c.t.Bucket.PutObject(ctx, key, []byte("prstate doctor 1\n"), storage.PutOptions{IfNoneMatch: true})
	if err != nil {
		c.cond.reason = explain(err, "s3:PutObject", where)
		hint := "check the bucket and the endpoint"
		if code(err) == "NotImplemented" || status(err) == 501 {
			c.add("conditional writes", bad, "the server does not implement conditional writes: "+c.cond.reason+note, fix)
			return
		}
		if denied(err) {
			hint = fmt.Sprintf("allow s3:PutObject, s3:DeleteObject, s3:ListBucketVersions and s3:DeleteObjectVersion on arn:aws:s3:::%s/%s* for doctor, or run it once as an admin", c.b.Bucket, ScratchPrefix(c.b.Key))
		}
		c.add("conditional writes", Warn, "not checked: "+c.cond.reason, hint)
		return
	}
	c.cond.ran = true

	// create: a second create must be refused.
	switch e2, err := c.t.Bucket.PutObject(ctx, key, []byte("prstate doctor 2\n"), storage.PutOptions{IfNoneMatch: true}); {
	case errors.Is(err, storage.ErrPrecondition):
		c.cond.createsOnce = true
		c.add("conditional create", OK, "PUT If-None-Match: * on an existing key was refused (412)", "")
	case err == nil:
		etag = e2
		c.add("conditional create", bad, "the server ignores If-None-Match: a second create of "+where+" succeeded"+note, fix)
	default:
		c.add("conditional create", bad, explain(err, "s3:PutObject", where)+note, fix)
	}

	// replace: a wrong ETag must be refused, on an existing and on an
	// absent key; the current ETag must be accepted.
	wrong, err := c.t.Bucket.PutObject(ctx, key, []byte("prstate doctor 3\n"), storage.PutOptions{IfMatch: impossibleETag})
	switch {
	case err == nil:
		etag = wrong
		c.add("conditional replace", bad, "the server ignores If-Match: a PUT with a wrong ETag replaced "+where+note, fix)
	case !errors.Is(err, storage.ErrPrecondition):
		c.add("conditional replace", bad, explain(err, "s3:PutObject", where)+note, fix)
	default:
		if _, err := c.t.Bucket.PutObject(ctx, absent, []byte("prstate doctor 4\n"), storage.PutOptions{IfMatch: impossibleETag}); err == nil {
			c.add("conditional replace", bad, "the server ignores If-Match on an absent key: a PUT with an ETag created "+where+"-absent"+note, fix)
			break
		}
		e3, err := c.t.Bucket.PutObject(ctx, key, []byte("prstate doctor 5\n"), storage.PutOptions{IfMatch: etag})
		if err != nil {
			c.add("conditional replace", bad, "a PUT If-Match with the current ETag was refused: "+explain(err, "s3:PutObject", where)+note, fix)
			break
		}
		etag = e3
		c.cond.putIfMatch = true
		c.add("conditional replace", OK, "PUT If-Match with a wrong ETag was refused (412), with the current one accepted", "")
	}

	// delete: MinIO ignores If-Match on DELETE; prstate does not rely on it.
	const safe = "prstate releases by conditional PUT; safe"
	switch err := c.t.Bucket.DeleteObject(ctx, key, impossibleETag); {
	case err == nil:
		c.add("conditional delete", Warn, "the server ignores If-Match on DELETE (MinIO does): a DELETE with a wrong ETag removed "+where+"; "+safe, "")
	case !errors.Is(err, storage.ErrPrecondition):
		c.add("conditional delete", Warn, explain(err, "s3:DeleteObject", where)+"; "+safe, "")
	default:
		if err := c.t.Bucket.DeleteObject(ctx, absent+"2", impossibleETag); err == nil {
			c.add("conditional delete", Warn, "the server ignores If-Match on DELETE of an absent key (it answered success); "+safe, "")
			break
		}
		if err := c.t.Bucket.DeleteObject(ctx, key, etag); err != nil {
			c.add("conditional delete", Warn, "a DELETE If-Match with the current ETag was refused: "+explain(err, "s3:DeleteObject", where)+"; "+safe, "")
			break
		}
		c.cond.delIfMatch = true
		c.add("conditional delete", OK, "DELETE If-Match with a wrong ETag was refused (412), with the current one accepted", "")
	}
}

// removeScratch deletes every version and delete marker of the scratch
// keys, or says what was left behind.
func (c *checker) removeScratch(ctx context.Context, keys ...string) {
	if !c.cond.ran {
		return
	}
	// A fresh context: the scratch object goes also when ctx was cancelled.
	ctx = context.WithoutCancel(ctx)
	vs, err := c.t.Bucket.ListObjectVersions(ctx, keys[0])
	if err == nil {
		mine := map[string]bool{}
		for _, k := range keys {
			mine[k] = true
			mine[k+"2"] = true
		}
		var del []storage.ObjectVersion
		for _, v := range vs {
			if mine[v.Key] {
				del = append(del, v)
			}
		}
		if err = c.t.Bucket.DeleteObjectVersions(ctx, del); err == nil {
			return
		}
	}
	for _, k := range keys {
		_ = c.t.Bucket.DeleteObject(ctx, k, "")
	}
	c.add("scratch object", Warn, "the scratch object may be left behind: "+oneLine(err.Error()),
		fmt.Sprintf("remove every version of s3://%s/%s*", c.b.Bucket, keys[0]))
}
