package plan

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

// Metadata prstate attaches to a seeded PR state object. Terraform's own
// writes drop it, so a PR object that still carries it is an untouched seed.
const (
	MetaSeedSource  = "prstate-seed-source"
	MetaSeedSerial  = "prstate-seed-serial"
	MetaSeedLineage = "prstate-seed-lineage"
	MetaSeedMD5     = "prstate-seed-md5"
)

// SeedResult says what the seed did.
type SeedResult struct {
	Seeded  bool   `json:"seeded"`
	Reason  string `json:"reason"` // why (not) seeded
	Source  string `json:"source,omitempty"`
	Serial  int64  `json:"serial,omitempty"`
	Lineage string `json:"lineage,omitempty"`
}

// StateHeader is what prstate reads of a Terraform state file.
type StateHeader struct {
	Version   int    `json:"version"`
	Serial    int64  `json:"serial"`
	Lineage   string `json:"lineage"`
	Resources []struct {
		Module string `json:"module"`
		Mode   string `json:"mode"`
		Type   string `json:"type"`
		Name   string `json:"name"`
	} `json:"resources"`
}

// ParseState reads a state file's header and resources.
func ParseState(body []byte) (StateHeader, error) {
	var h StateHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return StateHeader{}, fmt.Errorf("failed to parse state: %w", err)
	}
	if h.Version == 0 || h.Lineage == "" {
		return StateHeader{}, errors.New("failed to parse state: not a Terraform state (no version or lineage)")
	}
	return h, nil
}

// Addresses lists the managed resources' addresses (module.x.type.name).
func (h StateHeader) Addresses() []string {
	var out []string
	for _, r := range h.Resources {
		if r.Mode != "managed" {
			continue
		}
		a := r.Type + "." + r.Name
		if r.Module != "" {
			a = r.Module + "." + a
		}
		out = append(out, a)
	}
	return out
}

// MD5Hex is the hex md5 of a state: Terraform's digest item value.
func MD5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// digestWait bounds how long a seed waits for production's object and
// digest to agree (Terraform itself waits 10 s for the same reason).
const digestWait = 10 * time.Second

// digestPoll is how often a seed reads them again meanwhile.
const digestPoll = 500 * time.Millisecond

// Seed copies the production state into the PR key when the PR key is
// absent or is an unmodified seed of an older production state. It reads
// production without taking its lock. With a table (nil when none), it
// checks production against its digest and writes the PR key's digest.
// clk times the wait for production's object to match its digest.
func Seed(ctx context.Context, clk clock.Clock, bucket storage.ObjectReadWriter, table storage.ItemReadWriter, production, prKey string) (SeedResult, error) {
	cur, err := bucket.GetObject(ctx, prKey)
	var ifMatch string
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return SeedResult{}, fmt.Errorf("failed to read PR state %s: %w", prKey, err)
	case cur.Metadata[MetaSeedSource] == "" || cur.Metadata[MetaSeedMD5] != MD5Hex(cur.Body):
		return SeedResult{Reason: "the PR state exists and was written by Terraform"}, nil
	default:
		ifMatch = cur.ETag
	}
	prod, err := readVerified(ctx, clk, bucket, table, production)
	if errors.Is(err, storage.ErrNotFound) {
		return SeedResult{Reason: "production has no state yet"}, nil
	}
	if err != nil {
		return SeedResult{}, err
	}
	h, err := ParseState(prod.Body)
	if err != nil {
		return SeedResult{}, fmt.Errorf("failed to read production state %s: %w", production, err)
	}
	res := SeedResult{Seeded: true, Reason: "seeded from production", Source: production, Serial: h.Serial, Lineage: h.Lineage}
	if ifMatch != "" && cur.Metadata[MetaSeedSerial] == strconv.FormatInt(h.Serial, 10) && cur.Metadata[MetaSeedLineage] == h.Lineage {
		res.Seeded, res.Reason = false, "the PR state is an up-to-date seed"
		return res, nil
	}
	sum := MD5Hex(prod.Body)
	// The seed is production's state, secrets included: store it encrypted
	// as production is (the backend's encrypt / kms_key_id), not as the
	// bucket's default would.
	opts := storage.PutOptions{IfNoneMatch: ifMatch == "", IfMatch: ifMatch, Encryption: prod.Encryption, Metadata: map[string]string{
		MetaSeedSource: production, MetaSeedSerial: strconv.FormatInt(h.Serial, 10), MetaSeedLineage: h.Lineage, MetaSeedMD5: sum,
	}}
	if _, err := bucket.PutObject(ctx, prKey, prod.Body, opts); err != nil {
		if errors.Is(err, storage.ErrPrecondition) {
			return SeedResult{Reason: "the PR state changed while seeding; left as it is"}, nil
		}
		return SeedResult{}, fmt.Errorf("failed to write PR state %s: %w", prKey, err)
	}
	if table != nil {
		item := storage.Item{storage.KeyAttr: statekey.DigestID(bucket.Name(), prKey), "Digest": sum}
		if err := table.PutItem(ctx, item, storage.Condition{}); err != nil {
			return SeedResult{}, fmt.Errorf("failed to write the digest of %s: %w", prKey, err)
		}
	}
	return res, nil
}

// readVerified reads a state object and, with a table, waits until it
// matches its recorded md5 digest (S3 may briefly serve an older version).
func readVerified(ctx context.Context, clk clock.Clock, bucket storage.ObjectReadWriter, table storage.ItemReadWriter, key string) (storage.Object, error) {
	deadline := clk.Now().Add(digestWait)
	for {
		obj, err := bucket.GetObject(ctx, key)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return storage.Object{}, err
			}
			return storage.Object{}, fmt.Errorf("failed to read production state %s: %w", key, err)
		}
		if table == nil {
			return obj, nil
		}
		item, err := table.GetItem(ctx, statekey.DigestID(bucket.Name(), key))
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (item["Digest"] == "" || item["Digest"] == MD5Hex(obj.Body))) {
			return obj, nil
		}
		if err != nil {
			return storage.Object{}, fmt.Errorf("failed to read the digest of %s: %w", key, err)
		}
		if clk.Now().After(deadline) {
			return storage.Object{}, fmt.Errorf("production state %s does not match its digest %s in DynamoDB (expected md5 %s); run terraform once on production to repair it", key, item["Digest"], MD5Hex(obj.Body))
		}
		if err := clk.Sleep(ctx, digestPoll); err != nil {
			return storage.Object{}, err
		}
	}
}
