package plan

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// SeedResult says what the seed did.
type SeedResult struct {
	Seeded  bool   `json:"seeded"`
	Reason  string `json:"reason"` // why (not) seeded
	Source  string `json:"source,omitempty"`
	Serial  int64  `json:"serial,omitempty"`
	Lineage string `json:"lineage,omitempty"`
	// Encrypted: production's state is OpenTofu-encrypted, copied as it is.
	// Serial and lineage are zero when it does not show them in plain text.
	Encrypted bool `json:"encrypted,omitempty"`
}

// SerialWords is "serial N", or says the serial is unknown (an encrypted
// state that does not show it).
func (r SeedResult) SerialWords() string {
	if r.Encrypted && r.Lineage == "" {
		return "serial unknown (encrypted state)"
	}
	return "serial " + strconv.FormatInt(r.Serial, 10)
}

// SeedUnknown is the seed metadata value for a serial or lineage an
// encrypted state does not show.
const SeedUnknown = "unknown"

// seedHeader is the serial and lineage recorded in a seed's metadata.
func seedHeader(h tfstate.Header) (serial, lineage string) {
	if h.Lineage == "" {
		return SeedUnknown, SeedUnknown
	}
	return strconv.FormatInt(h.Serial, 10), h.Lineage
}

// digestWait bounds how long a seed waits for production's object and
// digest to agree (Terraform itself waits 10 s for the same reason).
const digestWait = 10 * time.Second

// digestPoll is how often a seed reads them again meanwhile.
const digestPoll = 500 * time.Millisecond

// Seed copies the production state into the PR key when the PR key is
// absent or is an unmodified seed of an older production state, and writes
// the seed record beside it (SeedRecord). It reads
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
	case cur.Metadata[tfstate.MetaSeedSource] == "" || cur.Metadata[tfstate.MetaSeedMD5] != tfstate.MD5Hex(cur.Body):
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
	h, err := tfstate.Parse(prod.Body)
	if err != nil && !errors.Is(err, tfstate.ErrEncrypted) {
		return SeedResult{}, fmt.Errorf("failed to read production state %s: %w", production, err)
	}
	sum := tfstate.MD5Hex(prod.Body)
	serial, lineage := seedHeader(h)
	res := SeedResult{Seeded: true, Reason: "seeded from production", Source: production, Serial: h.Serial, Lineage: h.Lineage, Encrypted: h.Encrypted}
	if ifMatch != "" && (cur.Metadata[tfstate.MetaSeedMD5] == sum || h.Lineage != "" && cur.Metadata[tfstate.MetaSeedSerial] == serial && cur.Metadata[tfstate.MetaSeedLineage] == lineage) {
		res.Seeded, res.Reason = false, "the PR state is an up-to-date seed"
		return res, nil
	}
	// The seed is production's state, secrets included: store it encrypted
	// as production is (the backend's encrypt / kms_key_id), not as the
	// bucket's default would. An OpenTofu encrypted state is copied byte
	// for byte: tofu decrypts it with the PR's own configuration.
	opts := storage.PutOptions{IfNoneMatch: ifMatch == "", IfMatch: ifMatch, Encryption: prod.Encryption, Metadata: map[string]string{
		tfstate.MetaSeedSource: production, tfstate.MetaSeedSerial: serial, tfstate.MetaSeedLineage: lineage, tfstate.MetaSeedMD5: sum,
	}}
	if _, err := bucket.PutObject(ctx, prKey, prod.Body, opts); err != nil {
		if errors.Is(err, storage.ErrPrecondition) {
			return SeedResult{Reason: "the PR state changed while seeding; left as it is"}, nil
		}
		return SeedResult{}, fmt.Errorf("failed to write PR state %s: %w", prKey, err)
	}
	if err := tfstate.WriteSeedRecord(ctx, bucket, prKey, production, prod.Body, h, prod.Encryption); err != nil {
		return SeedResult{}, err
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
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (item["Digest"] == "" || item["Digest"] == tfstate.MD5Hex(obj.Body))) {
			return obj, nil
		}
		if err != nil {
			return storage.Object{}, fmt.Errorf("failed to read the digest of %s: %w", key, err)
		}
		if clk.Now().After(deadline) {
			return storage.Object{}, fmt.Errorf("production state %s does not match its digest %s in DynamoDB (expected md5 %s); run terraform once on production to repair it", key, item["Digest"], tfstate.MD5Hex(obj.Body))
		}
		if err := clk.Sleep(ctx, digestPoll); err != nil {
			return storage.Object{}, err
		}
	}
}
