package cleanup

import (
	"context"
	"errors"
	"fmt"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/tfstate"
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
// It decides from the PR state's own objects and never reads production
// (no role a pull request can reach reads production's state): an
// untouched seed (the current version carries prstate's seed metadata and
// the md5 it recorded, or its bytes are a seed's) tracks nothing of its
// own, encrypted or not. Otherwise what the seed brought is read from the
// newest PR state version carrying seed metadata or, when none is left (a
// bucket without versioning, expired noncurrent versions), from the seed
// record written beside the PR state at seed time. A state whose lineage
// is not its seed's, or that no seed started, was created by terraform on
// the PR key: every resource it tracks was applied. An encrypted state that
// is not an untouched seed, or a body that is no state, cannot be read:
// unknown.
func (c *cleaner) orphans(ctx context.Context, j *cleanupJob) (verdict, error) {
	// The listing, taken under the lock, often answers without a read: no
	// current version, or one whose bytes are a production version's (same
	// ETag, from a metadata-only listing of production's key): a seed,
	// never applied to.
	current := false
	var size int64
	for _, v := range j.versions {
		if v.Key != j.key || !v.IsLatest {
			continue
		}
		if v.DeleteMarker {
			return verdict{}, nil
		}
		if v.ETag != "" && c.productionETags(ctx)[v.ETag] {
			return verdict{}, nil
		}
		current, size = true, v.Size
	}
	if !current {
		return verdict{}, nil
	}
	if size > MaxStateRead {
		// Too large to read, and no byte copy of production (a seed, by
		// ETag, returned above): what it tracks cannot be told.
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
	sum := tfstate.MD5Hex(cur.Body)
	if cur.Metadata[tfstate.MetaSeedSource] != "" && cur.Metadata[tfstate.MetaSeedMD5] == sum {
		return verdict{}, nil // an untouched seed: Terraform's writes drop the metadata
	}
	h, perr := tfstate.Parse(cur.Body)
	if perr != nil {
		// Unreadable: it is still an untouched seed when its bytes are the seed's.
		seed, err := c.seed(ctx, j, cur.VersionID)
		if err != nil {
			return verdict{}, err
		}
		if seed.found && seed.md5 == sum {
			return verdict{}, nil
		}
		if errors.Is(perr, tfstate.ErrEncrypted) {
			return verdict{unknown: "the state is encrypted (OpenTofu state encryption) and is not the untouched seed", encrypted: true}, nil
		}
		return verdict{unknown: "the state cannot be read (" + perr.Error() + ")"}, nil
	}
	addrs := h.Addresses()
	if len(addrs) == 0 {
		return verdict{}, nil
	}
	seed, err := c.seed(ctx, j, cur.VersionID)
	if err != nil {
		return verdict{}, err
	}
	switch {
	case seed.found && seed.encrypted:
		// Seeded from an encrypted state, now written plain: what the
		// seed brought is unknown.
		return verdict{unknown: "it was seeded from an encrypted state whose resources cannot be read", encrypted: true}, nil
	case seed.found && seed.lineage != "" && seed.lineage != h.Lineage:
		seed.addrs = nil // a state of its own replaced the seed
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
	lineage   string   // "" when unknown (encrypted)
	encrypted bool
}

// seed is what the PR state was seeded with: its newest seed version, or
// else its seed record.
func (c *cleaner) seed(ctx context.Context, j *cleanupJob, current string) (seedFound, error) {
	s, err := c.seedVersion(ctx, j, current)
	if err != nil || s.found {
		return s, err
	}
	return c.seedRecord(ctx, j)
}

// seedRecord reads the seed record beside the PR state, when the listing
// shows one.
func (c *cleaner) seedRecord(ctx context.Context, j *cleanupJob) (seedFound, error) {
	rk := statekey.SeedRecordKey(j.key)
	present := false
	for _, v := range j.versions {
		if v.Key == rk && v.IsLatest && !v.DeleteMarker {
			present = true
		}
	}
	if !present {
		return seedFound{}, nil
	}
	rec, err := tfstate.ReadSeedRecord(ctx, c.store.Bucket, j.key)
	if errors.Is(err, storage.ErrNotFound) {
		return seedFound{}, nil
	}
	if err != nil {
		return seedFound{}, err
	}
	return seedFound{found: true, addrs: rec.Resources, md5: rec.MD5, lineage: rec.Lineage, encrypted: rec.Encrypted}, nil
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
		if obj.Metadata[tfstate.MetaSeedSource] == "" {
			continue
		}
		h, err := tfstate.Parse(obj.Body)
		switch {
		case errors.Is(err, tfstate.ErrEncrypted):
			return seedFound{found: true, md5: tfstate.MD5Hex(obj.Body), lineage: h.Lineage, encrypted: true}, nil
		case err != nil:
			continue
		}
		return seedFound{found: true, addrs: h.Addresses(), md5: tfstate.MD5Hex(obj.Body), lineage: h.Lineage}, nil
	}
	return seedFound{}, nil
}

// productionETags lists production's versions once per cleanup: metadata
// only (ListObjectVersions of exactly production's key; an ETag is no
// content), so that PR states that are byte copies of a production version
// (seeds) are recognised without a read of theirs or any of production's.
// A listing that fails leaves the set empty: each PR state is judged from
// its own objects instead.
func (c *cleaner) productionETags(ctx context.Context) map[string]bool {
	c.prodOnce.Do(func() {
		prod := c.st.Keys.Production
		vs, err := c.store.Bucket.ListObjectVersions(ctx, prod)
		if err != nil {
			c.opts.Logf("failed to list production's versions (each PR state is judged from its own objects instead): %v", err)
			return
		}
		c.prodETags = map[string]bool{}
		for _, v := range vs {
			if v.Key == prod && v.ETag != "" && !v.DeleteMarker {
				c.prodETags[v.ETag] = true
			}
		}
	})
	return c.prodETags
}
