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

// orphans lists the managed resources the PR state tracks that it was not
// seeded with: what `terraform apply` on the PR key created. Deleting the
// state would leave those resources running with nothing tracking them.
//
// The seed is the newest version carrying prstate's seed metadata (the
// current one when Terraform never wrote the key). When no seed version can
// be read (a bucket without versioning, expired noncurrent versions) but the
// state shares production's lineage, it was seeded from production and is
// compared with production's current resources. A state of its own lineage
// that no seed started was created by terraform on the PR key: every
// resource it tracks was applied.
func (c *cleaner) orphans(ctx context.Context, j *cleanupJob) ([]string, error) {
	// The listing, taken under the lock, often answers without a read: no
	// current version, or one whose bytes are a production version's (same
	// ETag): a seed, never applied to.
	current := false
	for _, v := range j.versions {
		if v.Key != j.key || !v.IsLatest {
			continue
		}
		if v.DeleteMarker {
			return nil, nil
		}
		if v.ETag != "" && c.prodETags[v.ETag] {
			return nil, nil
		}
		current = true
	}
	if !current {
		return nil, nil
	}
	cur, err := c.store.Bucket.GetObject(ctx, j.key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read PR state %s: %w", j.key, err)
	}
	if cur.Metadata[plan.MetaSeedSource] != "" {
		return nil, nil // an untouched seed: Terraform's writes drop the metadata
	}
	h, err := plan.ParseState(cur.Body)
	if err != nil {
		if len(cur.Body) == 0 {
			return nil, nil
		}
		return []string{"(unreadable state: " + err.Error() + ")"}, nil
	}
	addrs := h.Addresses()
	if len(addrs) == 0 {
		return nil, nil
	}
	seed, found, err := c.seedVersion(ctx, j, cur.VersionID)
	if err != nil {
		return nil, err
	}
	if !found {
		prod, err := c.production(ctx)
		if err != nil {
			return nil, err
		}
		if prod != nil && prod.Lineage == h.Lineage {
			seed = prod.Addresses()
		}
	}
	had := map[string]bool{}
	for _, a := range seed {
		had[a] = true
	}
	var out []string
	for _, a := range addrs {
		if !had[a] {
			had[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// seedVersion reads the older versions of the PR state, newest first, and
// returns the resources of the first that carries seed metadata.
func (c *cleaner) seedVersion(ctx context.Context, j *cleanupJob, current string) ([]string, bool, error) {
	probed := 0
	for _, v := range j.versions { // newest first within a key
		if v.Key != j.key || v.DeleteMarker || v.VersionID == current || v.VersionID == "null" || v.VersionID == "" {
			continue
		}
		if probed++; probed > seedProbeMax {
			break
		}
		obj, err := c.store.Bucket.GetObjectVersion(ctx, j.key, v.VersionID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("failed to read PR state %s version %s: %w", j.key, v.VersionID, err)
		}
		if obj.Metadata[plan.MetaSeedSource] == "" {
			continue
		}
		h, err := plan.ParseState(obj.Body)
		if err != nil {
			continue
		}
		return h.Addresses(), true, nil
	}
	return nil, false, nil
}

// production reads production's current state once per cleanup.
func (c *cleaner) production(ctx context.Context) (*plan.StateHeader, error) {
	c.prodOnce.Do(func() {
		obj, err := c.store.Bucket.GetObject(ctx, c.st.Keys.Production)
		if errors.Is(err, storage.ErrNotFound) {
			return
		}
		if err != nil {
			c.prodErr = fmt.Errorf("failed to read production state %s: %w", c.st.Keys.Production, err)
			return
		}
		if h, err := plan.ParseState(obj.Body); err == nil {
			c.prod = &h
		}
	})
	return c.prod, c.prodErr
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
