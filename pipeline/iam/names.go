package iam

import (
	"github.com/prstate/prstate/pipeline/statekey"
)

// names are the objects and items of one stack that policies name, each
// built by the function the commands use for it.
type names struct {
	st    Stack
	table string // the table's ARN, "" without one

	// production's
	state, lockfile            string // objects
	lockItem, digest           string // items
	applyObject, applyItem     string // the apply lock
	ledgerObject, ledgerItem   string
	waitersObject, waitersItem string // coalescing: who waits for the apply lock
	backup                     glob   // force-unlock's copies of the state
	workspaces                 string // what terraform init lists (workspace_key_prefix + "/")
	listPrefix                 string // what a sweep lists

	// every PR's
	prState, prLockfile  glob // objects
	prSeedRecord         glob // what a seed copied (no values)
	prLockItem, prDigest glob // items
	prBackup             glob
	prPlans              glob // reviewed-plan records (statekey.ReviewedPlanKey)
}

func namesOf(st Stack, account string) names {
	k, b := st.Keys, st.Bucket
	prod := k.Production
	before, after := k.PRKeyPattern()
	pr := before + sentinel + after
	n := names{
		st:            st,
		state:         prod,
		lockfile:      prod + statekey.TerraformLockSuffix,
		lockItem:      statekey.LockItemID(b, prod),
		digest:        statekey.DigestID(b, prod),
		applyObject:   statekey.ApplyLockKey(prod),
		applyItem:     statekey.ApplyLockItemID(b, prod),
		ledgerObject:  statekey.LedgerObjectKey(prod),
		ledgerItem:    statekey.LedgerItemID(b, prod),
		waitersObject: statekey.WaitersObjectKey(prod),
		waitersItem:   statekey.WaitersItemID(b, prod),
		backup:        literal(prod + statekey.BackupInfix).then(""),
		listPrefix:    k.ListPrefix(),
		prState:       patternOf(pr),
		prLockfile:    patternOf(pr + statekey.TerraformLockSuffix),
		prSeedRecord:  patternOf(statekey.SeedRecordKey(pr)),
		prLockItem:    patternOf(statekey.LockItemID(b, pr)),
		prDigest:      patternOf(statekey.DigestID(b, pr)),
		prBackup:      patternOf(pr + statekey.BackupInfix).then(""),
		prPlans:       patternOf(pr + statekey.ReviewedPlanInfix).then(""),
	}
	wkp := st.WorkspaceKeyPrefix
	if wkp == "" {
		wkp = statekey.DefaultWorkspaceKeyPrefix
	}
	n.workspaces = wkp + "/"
	if st.DynamoDBTable != "" {
		// validateInput requires the account with a table: never "*".
		region := st.Region
		if region == "" {
			region = "*"
		}
		n.table = "arn:aws:dynamodb:" + region + ":" + account + ":table/" + st.DynamoDBTable
	}
	return n
}

// applyInTable tells whether the apply lock and the ledger are items
// (NewLedger and the lock store decide alike).
func (n names) applyInTable() bool { return n.st.LockBackend == "dynamodb" && n.table != "" }

// s3Lock tells whether terraform (and cleanup) lock with the lock file.
func (n names) s3Lock() bool { return n.st.UseLockfile }

// cleanupS3Lock tells whether cleanup takes the lock file: only without a
// table (with both, the DynamoDB item alone keeps Terraform out).
func (n names) cleanupS3Lock() bool { return n.st.UseLockfile && n.table == "" }
