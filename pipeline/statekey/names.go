package statekey

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

// BackupInfix names the folder of state backups beside a state key:
// "<key>.prstate-backup/<UTC timestamp>". Never a PR key: checked.
const BackupInfix = ".prstate-backup/"

// siblingSuffixes name what Terraform and prstate keep beside a state key
// (lock file, digest item, apply lock, ledger, force-unlock backups).
var siblingSuffixes = []string{".tflock", "-md5", ".prstate-apply", ".prstate-apply.lock", ".prstate-ledger", ".prstate-ledger.json", ".prstate-backup"}
