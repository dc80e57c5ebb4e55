package doctor

import (
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// probe is one permission to check: an action on an object key, a list
// prefix or a lock item.
type probe struct {
	action string
	name   string // key, prefix or LockID
	what   string // what it is, for people: "the PR state"
}

// probePR is the pull request whose keys are probed outside a pull request.
const probePR = 999999

// NotProbed are the actions jobs need that no request can test without
// effect; doctor names them instead.
var NotProbed = map[iam.Job][]string{
	iam.JobCleanup: {"s3:GetObjectVersion", "s3:DeleteObjectVersion", "dynamodb:BatchWriteItem"},
	iam.JobSweep:   {"s3:GetObjectVersion", "s3:DeleteObjectVersion", "dynamodb:BatchWriteItem"},
}

// names are the objects and items of one stack the jobs touch, from the
// functions the commands use (the same ones `prstate iam` writes policies
// from).
type names struct {
	bucket, state, lockfile, lockItem, digest string
	applyObject, applyItem, ledgerObject      string
	ledgerItem, backup, workspaces, list      string
	prState, prLockfile, prLockItem, prDigest string
	waitersObject, waitersItem                string // coalescing
}

func namesOf(t Target, pr int) names {
	b, k := t.Stack.Backend.Bucket, t.Stack.Keys
	prod := k.Production
	if prod == "" {
		prod = t.Stack.Backend.Key
	}
	if pr <= 0 {
		pr = probePR
	}
	prKey, err := k.Render(pr)
	if err != nil {
		prKey = ""
	}
	wkp := t.Stack.Backend.WorkspaceKeyPrefix
	if wkp == "" {
		wkp = statekey.DefaultWorkspaceKeyPrefix
	}
	return names{
		bucket: b, state: prod, lockfile: prod + statekey.TerraformLockSuffix,
		lockItem: statekey.LockItemID(b, prod), digest: statekey.DigestID(b, prod),
		applyObject: statekey.ApplyLockKey(prod), applyItem: statekey.ApplyLockItemID(b, prod),
		ledgerObject: statekey.LedgerObjectKey(prod), ledgerItem: statekey.LedgerItemID(b, prod),
		waitersObject: statekey.WaitersObjectKey(prod), waitersItem: statekey.WaitersItemID(b, prod),
		backup: prod + statekey.BackupInfix + "prstate-doctor", workspaces: wkp + "/", list: k.ListPrefix(),
		prState: prKey, prLockfile: prKey + statekey.TerraformLockSuffix,
		prLockItem: statekey.LockItemID(b, prKey), prDigest: statekey.DigestID(b, prKey),
	}
}

// probesFor lists what job needs on one stack, as `prstate iam` grants it.
func probesFor(job iam.Job, t Target, n names, seed bool) []probe {
	table := t.Table != nil
	lockfile := t.Stack.Backend.UseLockfile
	var ps []probe
	add := func(action, name, what string) { ps = append(ps, probe{action, name, what}) }
	objects := func(name, what string, actions ...string) {
		for _, a := range actions {
			add(a, name, what)
		}
	}
	terraformOn := func(state, lf, lockItem, digest, whose string) {
		add("s3:ListBucket", n.workspaces, "the workspaces terraform init lists")
		objects(state, whose+" state", "s3:GetObject", "s3:PutObject")
		if lockfile {
			objects(lf, whose+" lock file", "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
		}
		if table {
			objects(lockItem, whose+" lock item", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
			objects(digest, whose+" digest item", "dynamodb:GetItem", "dynamodb:PutItem")
		}
	}
	prCleanup := func() {
		add("s3:ListBucketVersions", n.prState, "the PR state's versions")
		add("s3:ListBucketVersions", n.state, "production's versions (their ETags, the applied-to guard)")
		objects(n.prState, "the PR state", "s3:GetObject", "s3:DeleteObject")
		if lockfile && !table {
			objects(n.prLockfile, "the PR lock file", "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
		}
		if table {
			objects(n.prLockItem, "the PR lock item", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
			add("dynamodb:GetItem", n.prDigest, "the PR digest item")
		}
	}
	switch job {
	case iam.JobPlan:
		terraformOn(n.prState, n.prLockfile, n.prLockItem, n.prDigest, "the PR")
		if seed {
			add("s3:GetObject", n.state, "the production state (seed)")
			if table {
				add("dynamodb:GetItem", n.digest, "the production digest item (seed)")
			}
		}
	case iam.JobCleanup:
		prCleanup()
	case iam.JobSweep:
		add("s3:ListBucket", n.list, "the PR states")
		add("s3:ListBucketVersions", n.list, "the PR states' versions")
		prCleanup()
	case iam.JobApply:
		terraformOn(n.state, n.lockfile, n.lockItem, n.digest, "the production")
		if table && t.LockBackend == "dynamodb" {
			objects(n.applyItem, "the apply lock item", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem")
			objects(n.ledgerItem, "the ledger item", "dynamodb:GetItem", "dynamodb:PutItem")
			objects(n.waitersItem, "the waiters item", "dynamodb:GetItem", "dynamodb:PutItem")
		} else {
			objects(n.applyObject, "the apply lock", "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
			objects(n.ledgerObject, "the ledger", "s3:GetObject", "s3:PutObject")
			objects(n.waitersObject, "the waiters record", "s3:GetObject", "s3:PutObject")
		}
	case iam.JobOps:
		add("s3:ListBucket", "", "the bucket (status)")
		add("s3:GetObject", n.state, "the production state")
		add("s3:PutObject", n.backup, "a state backup (force-unlock)")
		add("s3:DeleteObject", n.applyObject, "the apply lock (force-unlock)")
		if lockfile {
			add("s3:DeleteObject", n.lockfile, "the production lock file (force-unlock)")
		}
		if table {
			add("dynamodb:Scan", "", "the lock table (status)")
			add("dynamodb:DeleteItem", n.applyItem, "the apply lock item (force-unlock)")
			add("dynamodb:DeleteItem", n.lockItem, "the production lock item (force-unlock)")
		}
	}
	return ps
}
