package tfstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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

// SeedRecord is what a seed copied, kept beside the PR state
// (statekey.SeedRecordKey). It holds no value of the state: the source
// key, serial, lineage, the md5 of the copied bytes and the addresses of
// its managed resources. Terraform never writes it, so it outlives the
// seed version (a bucket without versioning, expired noncurrent versions)
// and cleanup's applied-to guard decides from it without reading
// production. It is as trustworthy as the PR state itself: whoever can
// write one can write the other.
type SeedRecord struct {
	Source    string   `json:"source"`
	Serial    int64    `json:"serial"`
	Lineage   string   `json:"lineage"`
	MD5       string   `json:"md5"`
	Encrypted bool     `json:"encrypted,omitempty"` // resources unknown
	Resources []string `json:"resources"`
}

// maxSeedRecord bounds what cleanup reads of a seed record.
const maxSeedRecord = 16 << 20

// WriteSeedRecord writes the record of a seed of body (h is its header)
// beside prKey, encrypted as the seed is.
func WriteSeedRecord(ctx context.Context, bucket storage.ObjectReadWriter, prKey, production string, body []byte, h Header, enc storage.Encryption) error {
	rec := SeedRecord{Source: production, Serial: h.Serial, Lineage: h.Lineage, MD5: MD5Hex(body), Encrypted: h.Encrypted, Resources: []string{}}
	if !h.Encrypted {
		rec.Resources = append(rec.Resources, h.Addresses()...)
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("failed to encode the seed record of %s: %w", prKey, err)
	}
	key := statekey.SeedRecordKey(prKey)
	if _, err := bucket.PutObject(ctx, key, raw, storage.PutOptions{Encryption: enc}); err != nil {
		return fmt.Errorf("failed to write the seed record %s: %w", key, err)
	}
	return nil
}

// ReadSeedRecord reads the seed record of prKey; storage.ErrNotFound when
// there is none.
func ReadSeedRecord(ctx context.Context, bucket interface {
	GetObject(ctx context.Context, key string) (storage.Object, error)
}, prKey string) (SeedRecord, error) {
	key := statekey.SeedRecordKey(prKey)
	obj, err := bucket.GetObject(ctx, key)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return SeedRecord{}, err
		}
		return SeedRecord{}, fmt.Errorf("failed to read the seed record %s: %w", key, err)
	}
	if len(obj.Body) > maxSeedRecord {
		return SeedRecord{}, fmt.Errorf("the seed record %s has %d bytes, more than %d: not a seed record", key, len(obj.Body), maxSeedRecord)
	}
	var rec SeedRecord
	if err := json.Unmarshal(obj.Body, &rec); err != nil || rec.MD5 == "" {
		return SeedRecord{}, fmt.Errorf("the seed record %s is not one prstate wrote", key)
	}
	return rec, nil
}
