package cleanup

import (
	"context"
	"errors"
	"fmt"

	"github.com/prstate/prstate/pipeline/plan"
	"github.com/prstate/prstate/pipeline/storage"
)

// seedProbeMax bounds how many older versions cleanup reads looking for
// the seed a PR state started from.
const seedProbeMax = 20

// MaxStateRead is the largest PR state (or seed version) cleanup and sweep
// read to find what it tracks, by the size the version listing gives
// before any read. A larger one is never read (a PR job can write a state
// of any size: read whole, a few GB would take the runner down): unless
// its bytes are a production version's (an untouched seed, by ETag), it is
// kept as "cannot tell" and removed only with --force, which reads nothing.
// Reading one at the limit costs about twice its size in memory.
const MaxStateRead = 32 << 20

// verdict is what cleanup found a PR state tracks.
type verdict struct {
	added     []string // managed resources the seed did not bring
	unknown   string   // non-empty: why its resources cannot be read
	encrypted bool     // an OpenTofu encrypted state
}

// orphans finds the managed resources the PR state tracks that it was not
// seeded with: what `terraform apply` on the PR key created. Deleting the
// state would leave those resources running with nothing tracking them.
//
// An untouched seed (the current version carries prstate's seed metadata
// and the md5 it recorded, or its bytes are a seed version's or
// production's) tracks nothing of its own, encrypted or not. Otherwise the
// seed is the newest version carrying seed metadata. When no seed version
// can be read (a bucket without versioning, expired noncurrent versions)
// but the state shares production's lineage, it was seeded from production
// and is compared with production's current resources. A state of its own
// lineage that no seed started was created by terraform on the PR key:
// every resource it tracks was applied. An encrypted state that is not an
// untouched seed, or a body that is no state, cannot be read: unknown.
func (c *cleaner) orphans(ctx context.Context, j *cleanupJob) (verdict, error) {
	// The listing, taken under the lock, often answers without a read: no
	// current version, or one whose bytes are a production version's (same
	// ETag): a seed, never applied to.
	current := false
	var size int64
	var etag string
	for _, v := range j.versions {
		if v.Key != j.key || !v.IsLatest {
			continue
		}
		if v.DeleteMarker {
			return verdict{}, nil
		}
		if v.ETag != "" && c.prodETags[v.ETag] {
			return verdict{}, nil
		}
		current, size, etag = true, v.Size, v.ETag
	}
	if !current {
		return verdict{}, nil
	}
	if size > MaxStateRead {
		// Too large to read: only a byte copy of production (a seed) is
		// known to track nothing of its own.
		if etag != "" && c.prodETags[etag] {
			return verdict{}, nil
		}
		return verdict{unknown: fmt.Sprintf("the state is %d bytes, over the %d cleanup reads (MaxStateRead)", size, MaxStateRead)}, nil
	}
	cur, err := c.store.Bucket.GetObject(ctx, j.key)
	if errors.Is(err, storage.ErrNotFound) {
		return verdict{}, nil
	}
	if err != nil {
		return verdict{}, fmt.Errorf("failed to read PR state %s: %w", j.key, err)
	}
	if len(cur.Body) == 0 {
		return verdict{}, nil
	}
	sum := plan.MD5Hex(cur.Body)
	if cur.Metadata[plan.MetaSeedSource] != "" && cur.Metadata[plan.MetaSeedMD5] == sum {
		return verdict{}, nil // an untouched seed: Terraform's writes drop the metadata
	}
	h, perr := plan.ParseState(cur.Body)
	if perr != nil {
		// Unreadable: it is still an untouched seed when its bytes are a
		// seed's or production's current state.
		seed, err := c.seedVersion(ctx, j, cur.VersionID)
		if err != nil {
			return verdict{}, err
		}
		if seed.found && seed.md5 == sum {
			return verdict{}, nil
		}
		if prod, err := c.production(ctx); err != nil {
			return verdict{}, err
		} else if prod.md5 == sum {
			return verdict{}, nil
		}
		if errors.Is(perr, plan.ErrEncrypted) {
			return verdict{unknown: "the state is encrypted (OpenTofu state encryption) and is not the untouched seed", encrypted: true}, nil
		}
		return verdict{unknown: "the state cannot be read (" + perr.Error() + ")"}, nil
	}
	addrs := h.Addresses()
	if len(addrs) == 0 {
		return verdict{}, nil
	}
	seed, err := c.seedVersion(ctx, j, cur.VersionID)
	if err != nil {
		return verdict{}, err
	}
	switch {
	case seed.found && seed.encrypted:
		// Seeded from an encrypted state, now written plain: what the
		// seed brought is unknown.
		return verdict{unknown: "it was seeded from an encrypted state whose resources cannot be read", encrypted: true}, nil
	case !seed.found:
		prod, err := c.production(ctx)
		if err != nil {
			return verdict{}, err
		}
		if prod.header != nil && prod.header.Lineage == h.Lineage {
			seed.addrs = prod.header.Addresses()
		}
	}
	had := map[string]bool{}
	for _, a := range seed.addrs {
		had[a] = true
	}
	var out []string
	for _, a := range addrs {
		if !had[a] {
			had[a] = true
			out = append(out, a)
		}
	}
	return verdict{added: out}, nil
}

// seedFound is the seed version a PR state started from.
type seedFound struct {
	found     bool
	addrs     []string // its managed resources
	md5       string   // of its body
	encrypted bool
}

// seedVersion reads the older versions of the PR state, newest first, and
// returns the first that carries seed metadata.
func (c *cleaner) seedVersion(ctx context.Context, j *cleanupJob, current string) (seedFound, error) {
	probed := 0
	for _, v := range j.versions { // newest first within a key
		if v.Key != j.key || v.DeleteMarker || v.VersionID == current || v.VersionID == "null" || v.VersionID == "" {
			continue
		}
		if probed++; probed > seedProbeMax {
			break
		}
		if v.Size > MaxStateRead {
			continue // not read: never a seed it can use
		}
		obj, err := c.store.Bucket.GetObjectVersion(ctx, j.key, v.VersionID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return seedFound{}, fmt.Errorf("failed to read PR state %s version %s: %w", j.key, v.VersionID, err)
		}
		if obj.Metadata[plan.MetaSeedSource] == "" {
			continue
		}
		h, err := plan.ParseState(obj.Body)
		switch {
		case errors.Is(err, plan.ErrEncrypted):
			return seedFound{found: true, md5: plan.MD5Hex(obj.Body), encrypted: true}, nil
		case err != nil:
			continue
		}
		return seedFound{found: true, addrs: h.Addresses(), md5: plan.MD5Hex(obj.Body)}, nil
	}
	return seedFound{}, nil
}

// prodState is production's current state as cleanup reads it.
type prodState struct {
	header *plan.StateHeader // nil when absent or unreadable
	md5    string            // of its body; "" when absent
}

// production reads production's current state once per cleanup.
func (c *cleaner) production(ctx context.Context) (prodState, error) {
	c.prodOnce.Do(func() {
		obj, err := c.store.Bucket.GetObject(ctx, c.st.Keys.Production)
		if errors.Is(err, storage.ErrNotFound) {
			return
		}
		if err != nil {
			c.prodErr = fmt.Errorf("failed to read production state %s: %w", c.st.Keys.Production, err)
			return
		}
		c.prod.md5 = plan.MD5Hex(obj.Body)
		if h, err := plan.ParseState(obj.Body); err == nil {
			c.prod.header = &h
		}
	})
	return c.prod, c.prodErr
}

// tooLarge tells whether a job's current state is over MaxStateRead (then
// production's ETags are listed first: a large seed is known by them).
func tooLarge(jobs []*cleanupJob) bool {
	for _, j := range jobs {
		for _, v := range j.versions {
			if v.Key == j.key && v.IsLatest && !v.DeleteMarker && v.Size > MaxStateRead {
				return true
			}
		}
	}
	return false
}

// loadProductionETags lists production's versions once, so that PR states
// that are byte copies of one (seeds) need no read of their own.
func (c *cleaner) loadProductionETags(ctx context.Context) {
	prod := c.st.Keys.Production
	vs, err := c.store.Bucket.ListObjectVersions(ctx, prod)
	if err != nil {
		c.opts.Logf("failed to list production's versions (each PR state is read instead): %v", err)
		return
	}
	c.prodETags = map[string]bool{}
	for _, v := range vs {
		if v.Key == prod && v.ETag != "" {
			c.prodETags[v.ETag] = true
		}
	}
}
