package iam

import "fmt"

// IAM actions, one per storage call (pipeline/storage/awsstore) or
// Terraform request (measured with Terraform 1.11 against moto):
//
//	GetObject (and HeadObject)      s3:GetObject
//	GetObject with a version ID     s3:GetObjectVersion
//	PutObject, also If-None-Match   s3:PutObject
//	and If-Match
//	DeleteObject                    s3:DeleteObject
//	DeleteObjects with version IDs  s3:DeleteObjectVersion (per object;
//	                                version "null": s3:DeleteObject too)
//	ListObjectsV2                   s3:ListBucket (condition key s3:prefix)
//	ListObjectVersions              s3:ListBucketVersions (s3:prefix)
//	GetItem PutItem DeleteItem      dynamodb: the same (dynamodb:LeadingKeys)
//	TransactWriteItems              per item: ConditionCheck dynamodb:ConditionCheckItem,
//	                                Put dynamodb:PutItem (LeadingKeys)
//	BatchWriteItem (deletes)        dynamodb:BatchWriteItem (LeadingKeys)
//	Scan                            dynamodb:Scan (no leading key)
const (
	s3Get         = "s3:GetObject"
	s3GetVersion  = "s3:GetObjectVersion"
	s3Put         = "s3:PutObject"
	s3Delete      = "s3:DeleteObject"
	s3DeleteVer   = "s3:DeleteObjectVersion"
	s3List        = "s3:ListBucket"
	s3ListVer     = "s3:ListBucketVersions"
	ddbGet        = "dynamodb:GetItem"
	ddbPut        = "dynamodb:PutItem"
	ddbDelete     = "dynamodb:DeleteItem"
	ddbCheck      = "dynamodb:ConditionCheckItem"
	ddbBatchWrite = "dynamodb:BatchWriteItem"
	ddbScan       = "dynamodb:Scan"
)

func acts(a ...string) []string { return a }

// jobStatements adds the statements of in.Job for one stack and returns
// notes about them.
func jobStatements(b *builder, in Input, n names) []string {
	switch in.Job {
	case JobPlan:
		return plan(b, n, in.Seed)
	case JobCleanup:
		return cleanup(b, n)
	case JobApply:
		return apply(b, n)
	case JobSweep:
		return sweep(b, n)
	case JobOps:
		return ops(b, n)
	}
	return nil
}

// terraformOn is what terraform init, plan and apply do on one state:
// list the workspaces, read and write the state, take and give back its
// lock file and lock item, read and write its digest.
func terraformOn(b *builder, n names, sid string, state, lockfile, lockItem, digest glob) {
	bucket := n.st.Bucket
	b.list("TerraformListWorkspaces", s3List, bucket, literal(n.workspaces))
	b.objects(sid+"State", acts(s3Get, s3Put), bucket, state)
	if n.s3Lock() {
		b.objects(sid+"LockFile", acts(s3Get, s3Put, s3Delete), bucket, lockfile)
	}
	if n.table != "" {
		b.items(sid+"LockAndDigest", acts(ddbGet, ddbPut), n.table, lockItem, digest)
		b.items(sid+"LockRelease", acts(ddbDelete), n.table, lockItem)
	}
}

// plan: terraform on the PR key. With a seed (the gated seed role, in a
// protected environment), prstate plan also reads production's state and
// digest and writes the PR state, its digest and its seed record.
func plan(b *builder, n names, seed bool) []string {
	terraformOn(b, n, "PR", n.prState, n.prLockfile, n.prLockItem, n.prDigest)
	b.objects("PRReviewedPlan", acts(s3Put), n.st.Bucket, n.prPlans)
	if !seed {
		return []string{"this role reads every PR's state: where any PR state was seeded, it holds production's secrets, and every PR author can read it through this role"}
	}
	b.objects("SeedReadProductionState", acts(s3Get), n.st.Bucket, literal(n.state))
	b.objects("SeedWriteSeedRecord", acts(s3Put), n.st.Bucket, n.prSeedRecord)
	if n.table != "" {
		b.items("SeedReadProductionDigest", acts(ddbGet), n.table, literal(n.digest))
	}
	return []string{fmt.Sprintf("seed: a seeded PR state is a copy of production's state s3://%s/%s, secrets included, and every PR author of the repository can read it (the plan role reads every PR's state); this role itself reads production and is trusted only in its protected environment (a reviewer approves each run)", n.st.Bucket, n.state)}
}

// prCleanup is what cleanup does to the PR keys of one stack
// (pipeline/cleanup*.go): list each PR key's versions, read the state, its
// older versions and its seed record (the applied-to guard), list
// production's versions (metadata only: their ETags tell byte copies of
// production apart without a read), take and give back the PR state's
// lock, delete every version of the state, lock file and seed record,
// delete the digest and lock items in a batch. It reads nothing of
// production: the role is trusted as pull_request.
func prCleanup(b *builder, n names) {
	bucket := n.st.Bucket
	b.list("CleanupListPRVersions", s3ListVer, bucket, n.prState, literal(n.state))
	b.objects("CleanupReadPRState", acts(s3Get, s3GetVersion), bucket, n.prState, n.prSeedRecord)
	// DeleteObjects names a version ID for every key; in a bucket without
	// versioning that ID is "null", which S3 may judge as a plain delete.
	b.objects("CleanupDeletePRVersions", acts(s3Delete, s3DeleteVer), bucket, n.prState, n.prLockfile, n.prSeedRecord, n.prPlans)
	if n.cleanupS3Lock() {
		b.objects("CleanupPRLockFile", acts(s3Get, s3Put, s3Delete), bucket, n.prLockfile)
	}
	if n.table != "" {
		b.items("CleanupPRLock", acts(ddbGet, ddbPut, ddbDelete), n.table, n.prLockItem)
		b.items("CleanupPRItems", acts(ddbGet, ddbBatchWrite), n.table, n.prLockItem, n.prDigest)
	}
}

func cleanup(b *builder, n names) []string {
	prCleanup(b, n)
	return []string{"cleanup reads nothing of production: the applied-to guard decides from the PR state's own versions and seed record (production's versions are only listed, for their ETags)"}
}

// sweep: list the PR states under the scheme's prefix, then cleanup's
// steps; a batch lists the prefix's versions once and production's
// versions (their ETags tell seeds apart without a read).
func sweep(b *builder, n names) []string {
	bucket := n.st.Bucket
	b.list("SweepListPRStates", s3List, bucket, literal(n.listPrefix))
	b.list("CleanupListPRVersions", s3ListVer, bucket, literal(n.listPrefix), literal(n.state))
	prCleanup(b, n)
	return []string{"sweep uses no DynamoDB Scan: it finds PR states by listing S3"}
}

// apply: terraform on production, the apply lock, the ledger and the
// waiters record (coalescing).
func apply(b *builder, n names) []string {
	terraformOn(b, n, "Production", literal(n.state), literal(n.lockfile), literal(n.lockItem), literal(n.digest))
	b.objects("ApplyReadReviewedPlans", acts(s3Get), n.st.Bucket, n.prPlans)
	if n.applyInTable() {
		// The ledger's write is conditional on the lock item, in one
		// transaction (a ConditionCheck on it).
		b.items("ApplyLock", acts(ddbGet, ddbPut, ddbDelete, ddbCheck), n.table, literal(n.applyItem))
		b.items("ApplyLedger", acts(ddbGet, ddbPut), n.table, literal(n.ledgerItem))
		b.items("ApplyWaiters", acts(ddbGet, ddbPut), n.table, literal(n.waitersItem))
		return nil
	}
	b.objects("ApplyLock", acts(s3Get, s3Put, s3Delete), n.st.Bucket, literal(n.applyObject))
	b.objects("ApplyLedger", acts(s3Get, s3Put), n.st.Bucket, literal(n.ledgerObject))
	b.objects("ApplyWaiters", acts(s3Get, s3Put), n.st.Bucket, literal(n.waitersObject))
	return nil
}

// ops: status lists the whole bucket and reads every lock it finds (and
// scans the table); force-unlock reads the state, writes a backup beside
// it and removes the lock conditionally (an S3 apply lock by writing a
// released record with If-Match, never by DELETE).
func ops(b *builder, n names) []string {
	bucket := n.st.Bucket
	b.list("OpsListBucket", s3List, bucket)
	b.objects("OpsReadAll", acts(s3Get), bucket, glob{"", ""})
	b.objects("OpsWriteBackups", acts(s3Put), bucket, n.backup, n.prBackup)
	b.objects("OpsDeleteLocks", acts(s3Delete), bucket, literal(n.applyObject), literal(n.lockfile), n.prLockfile)
	b.objects("OpsReleaseApplyLock", acts(s3Put), bucket, literal(n.applyObject))
	if n.table != "" {
		b.table("OpsScanLocks", acts(ddbScan), n.table)
		b.items("OpsDeleteLockItems", acts(ddbDelete), n.table, literal(n.applyItem), literal(n.lockItem), n.prLockItem)
	}
	return []string{fmt.Sprintf("force-unlock writes state backups under %s*, which no PR job's pattern matches", objectARN(bucket, n.backup[:1]))}
}
