package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/record"
	"github.com/prstate/prstate/pipeline/tfstate"
)

// Reviewed is the reviewed-plan record: what a pull request's plan showed
// its reviewers, stored beside the PR state at the commit it was planned
// at (statekey.ReviewedPlanKey). verify-plan compares the apply-time plan
// with the records of the PRs an apply brings.
type Reviewed struct {
	PR      int    `json:"pr"`
	HeadSHA string `json:"head_sha"`
	BaseSHA string `json:"base_sha,omitempty"`
	// Base is the production state the PR state was seeded from (Seeded),
	// or the PR state's own serial and lineage (not seeded).
	// The tool's version and the plan format are in Changes.
	Base       StateRef  `json:"state"`
	RunURL     string    `json:"run_url,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
	Changes    ChangeSet `json:"changes"`
}

// StateRef names one state by lineage and serial. Seeded: it is
// production's, which the PR state was seeded from. Known is false when
// no state could be read (none yet, or encrypted without a plain serial).
type StateRef struct {
	Seeded  bool   `json:"seeded"`
	Known   bool   `json:"known"`
	Serial  int64  `json:"serial"`
	Lineage string `json:"lineage,omitempty"`
}

// Words says which state in a few words: "production serial 7".
func (s StateRef) Words() string {
	switch {
	case !s.Known:
		return "an unknown serial"
	case s.Seeded:
		return "production serial " + strconv.FormatInt(s.Serial, 10)
	default:
		return "the PR state's own serial " + strconv.FormatInt(s.Serial, 10)
	}
}

// PRStateRef reads which state a PR plan ran on: an untouched seed names
// the production serial and lineage it copied (its metadata), any other
// PR state its own.
func PRStateRef(ctx context.Context, bucket storage.ObjectReadWriter, prKey string) (StateRef, storage.Encryption, error) {
	obj, err := bucket.GetObject(ctx, prKey)
	if errors.Is(err, storage.ErrNotFound) {
		return StateRef{}, storage.Encryption{}, nil
	}
	if err != nil {
		return StateRef{}, storage.Encryption{}, fmt.Errorf("failed to read PR state %s: %w", prKey, err)
	}
	if obj.Metadata[tfstate.MetaSeedSource] != "" && obj.Metadata[tfstate.MetaSeedMD5] == tfstate.MD5Hex(obj.Body) {
		if n, err := strconv.ParseInt(obj.Metadata[tfstate.MetaSeedSerial], 10, 64); err == nil {
			return StateRef{Seeded: true, Known: true, Serial: n, Lineage: obj.Metadata[tfstate.MetaSeedLineage]}, obj.Encryption, nil
		}
	}
	h, err := tfstate.Parse(obj.Body)
	if err != nil && !errors.Is(err, tfstate.ErrEncrypted) || h.Lineage == "" {
		return StateRef{}, obj.Encryption, nil
	}
	return StateRef{Known: true, Serial: h.Serial, Lineage: h.Lineage}, obj.Encryption, nil
}

// ProductionRef reads production's current serial and lineage.
func ProductionRef(ctx context.Context, bucket storage.ObjectReadWriter, key string) (StateRef, error) {
	obj, err := bucket.GetObject(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return StateRef{Seeded: true}, nil
	}
	if err != nil {
		return StateRef{}, fmt.Errorf("failed to read production state %s: %w", key, err)
	}
	h, err := tfstate.Parse(obj.Body)
	if err != nil && !errors.Is(err, tfstate.ErrEncrypted) || h.Lineage == "" {
		return StateRef{Seeded: true}, nil
	}
	return StateRef{Seeded: true, Known: true, Serial: h.Serial, Lineage: h.Lineage}, nil
}

// SaveReviewed stores r under its head SHA and as the PR's latest record,
// encrypted as the PR state is. Each is a record.Record written whole:
// every write is a new fact, so none is compared and swapped.
func SaveReviewed(ctx context.Context, bucket storage.ObjectReadWriter, prKey string, r Reviewed, enc storage.Encryption) error {
	body, err := encodeReviewed(r)
	if err != nil {
		return err
	}
	for _, name := range []string{r.HeadSHA, "latest"} {
		rec := record.S3Encrypted(bucket, statekey.ReviewedPlanKey(prKey, name), enc)
		if _, err := rec.Put(ctx, body); err != nil {
			return fmt.Errorf("failed to write the reviewed plan %s: %w", rec.Where(), err)
		}
	}
	return nil
}

// LoadReviewed reads the record of prKey made at sha ("latest" for the
// last one); found is false when there is none.
func LoadReviewed(ctx context.Context, bucket storage.ObjectReadWriter, prKey, sha string) (r Reviewed, found bool, err error) {
	rec := record.S3(bucket, statekey.ReviewedPlanKey(prKey, sha), nil)
	obs, err := rec.Read(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return Reviewed{}, false, nil
	}
	if err != nil {
		return Reviewed{}, false, fmt.Errorf("failed to read the reviewed plan %s: %w", rec.Where(), err)
	}
	if r, err = decodeReviewed(obs.Body); err != nil {
		return Reviewed{}, false, fmt.Errorf("failed to read the reviewed plan %s: %w", rec.Where(), err)
	}
	return r, true, nil
}

// encodeReviewed and decodeReviewed are the reviewed plan's codec.
func encodeReviewed(r Reviewed) ([]byte, error) {
	if !escape.IsSHA(r.HeadSHA) {
		return nil, errors.New("failed to record the reviewed plan: the pull request's head commit is not known (no commit SHA in the event)")
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the reviewed plan: %w", err)
	}
	return body, nil
}

func decodeReviewed(body []byte) (Reviewed, error) {
	var r Reviewed
	if err := json.Unmarshal(body, &r); err != nil {
		return Reviewed{}, fmt.Errorf("not a prstate record: %w", err)
	}
	if !escape.IsSHA(r.HeadSHA) {
		return Reviewed{}, errors.New("its head commit is not a SHA")
	}
	return r, nil
}
