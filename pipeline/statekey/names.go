package statekey

import (
	"strings"
	"time"
)

// ApplyLockSuffix and ApplyLockItemSuffix name the apply lock beside a
// production state: an S3 object "<key>.prstate-apply.lock", or the
// DynamoDB item "<bucket>/<key>.prstate-apply". Never Terraform's own lock.
const (
	ApplyLockSuffix     = ".prstate-apply.lock"
	ApplyLockItemSuffix = ".prstate-apply"
	// TerraformLockSuffix is Terraform's S3 lockfile (use_lockfile).
	TerraformLockSuffix = ".tflock"
)

// ApplyLockKey is the S3 object of the apply lock of a state key.
func ApplyLockKey(key string) string { return key + ApplyLockSuffix }

// ApplyLockItemID is the DynamoDB LockID of the apply lock of a state key.
func ApplyLockItemID(bucket, key string) string { return bucket + "/" + key + ApplyLockItemSuffix }

// DigestID is the LockID of Terraform's md5 digest item for a state key.
func DigestID(bucket, key string) string { return bucket + "/" + key + "-md5" }

// LockItemID is the LockID of Terraform's DynamoDB state lock for a key.
func LockItemID(bucket, key string) string { return bucket + "/" + key }

// LedgerItemID is the DynamoDB LockID of a production state's ledger.
func LedgerItemID(bucket, key string) string { return bucket + "/" + key + ".prstate-ledger" }

// LedgerObjectKey is the S3 key of a production state's ledger.
func LedgerObjectKey(key string) string { return key + ".prstate-ledger.json" }

// WaitersObjectKey is the S3 key of the waiter records of a production
// state's apply lock (coalescing: who waits for it, with which commit).
func WaitersObjectKey(key string) string { return key + ".prstate-waiters.json" }

// WaitersItemID is the DynamoDB LockID of the waiter records.
func WaitersItemID(bucket, key string) string { return bucket + "/" + key + ".prstate-waiters" }

// SeedRecordSuffix names the seed record beside a PR state: what
// `prstate plan --seed production` copied (source, serial, lineage, md5 and
// the managed resources' addresses; no values). Terraform never writes
// it, so it outlives the seed version and lets cleanup's applied-to guard
// tell what the seed brought without reading production.
const SeedRecordSuffix = ".prstate-seed.json"

// SeedRecordKey is the S3 key of the seed record of a PR state key.
func SeedRecordKey(prKey string) string { return prKey + SeedRecordSuffix }

// BackupInfix names the folder of state backups beside a state key:
// "<key>.prstate-backup/<UTC timestamp>" (BackupKey). Never a PR key:
// checked. Only the ops role reads them (prstate iam: OpsReadAll); they
// keep the state's server-side encryption. No PR pattern matches the
// production key's backups: a PR pattern's literal part (ListPrefix, e.g.
// app/pr-) and the production key are never a prefix of each other
// (checkSeparable), so nothing under <production key> is matched by
// <ListPrefix>*.
const BackupInfix = ".prstate-backup/"

// BackupTimeFormat is the UTC timestamp that names one backup.
const BackupTimeFormat = "20060102T150405.000000000Z"

// BackupKey is the S3 key of a backup of the state at key, taken at t.
func BackupKey(key string, t time.Time) string {
	return key + BackupInfix + t.UTC().Format(BackupTimeFormat)
}

// ReviewedPlanInfix names the folder of reviewed-plan records beside a PR
// state key: "<PR key>.prstate-plan/<head SHA>.json", one per commit the
// PR was planned at (ReviewedPlanKey), and "latest.json", the last one.
// Only under PR keys: the plan role writes them, the apply role reads
// them, cleanup and sweep delete them with the PR's state.
const ReviewedPlanInfix = ".prstate-plan/"

// ReviewedPlanKey is the S3 key of the reviewed-plan record of the PR key
// prKey made at commit sha ("latest" for the last one recorded).
func ReviewedPlanKey(prKey, sha string) string {
	return prKey + ReviewedPlanInfix + sha + ".json"
}

// siblingSuffixes name what Terraform and prstate keep beside a state key
// (lock file, digest item, apply lock, ledger, waiters, force-unlock backups,
// a PR state's seed record, its reviewed-plan records).
var siblingSuffixes = []string{".tflock", "-md5", ".prstate-apply", ".prstate-apply.lock", ".prstate-ledger", ".prstate-ledger.json", ".prstate-waiters", ".prstate-waiters.json", ".prstate-backup", SeedRecordSuffix, ".prstate-plan"}

// prObjectSuffixes name the S3 objects kept beside a PR state that belong
// to it and go with it: Terraform's lock file and prstate's seed record
// (and, under ReviewedPlanInfix, its reviewed-plan records).
var prObjectSuffixes = []string{TerraformLockSuffix, SeedRecordSuffix}

// MatchObject is Match for any S3 object of a PR state: the state itself or
// one kept beside it (prObjectSuffixes, reviewed-plan records). The sweep
// finds PRs by them: a PR planned without a seed may have records and no
// state.
func (k Keys) MatchObject(key string) (int, bool) {
	if pr, ok := k.Match(key); ok {
		return pr, true
	}
	if base, _, ok := strings.Cut(key, ReviewedPlanInfix); ok {
		if pr, ok := k.Match(base); ok {
			return pr, true
		}
	}
	for _, s := range prObjectSuffixes {
		if base, ok := strings.CutSuffix(key, s); ok {
			if pr, ok := k.Match(base); ok {
				return pr, true
			}
		}
	}
	return 0, false
}
