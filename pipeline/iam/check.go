package iam

import "github.com/prstate/prstate/pipeline/usage"

// named is one production name a PR pattern must leave out.
type named struct {
	what string
	name glob
}

// productionNames are what no PR job may write in n's stack: objects
// prefixed "s3://<bucket>/", items "dynamodb://<table>/" so that names in
// other buckets and tables never compare equal.
func (n names) productionNames() []named {
	obj := func(g glob) glob { return g.prepend("s3://" + n.st.Bucket + "/") }
	out := []named{
		{"state", obj(literal(n.state))},
		{"lock file", obj(literal(n.lockfile))},
		{"apply lock", obj(literal(n.applyObject))},
		{"ledger", obj(literal(n.ledgerObject))},
		{"waiters record", obj(literal(n.waitersObject))},
		{"state backups", obj(n.backup)},
	}
	if n.table != "" {
		item := func(s string) glob { return literal("dynamodb://" + n.st.DynamoDBTable + "/" + s) }
		out = append(out,
			named{"lock item", item(n.lockItem)},
			named{"digest item", item(n.digest)},
			named{"apply lock item", item(n.applyItem)},
			named{"ledger item", item(n.ledgerItem)},
			named{"waiters item", item(n.waitersItem)})
	}
	return out
}

// prNames are the patterns PR jobs are granted writes on, named alike.
func (n names) prNames() []named {
	obj := func(g glob) glob { return g.prepend("s3://" + n.st.Bucket + "/") }
	out := []named{{"PR state", obj(n.prState)}, {"PR lock file", obj(n.prLockfile)}, {"PR seed record", obj(n.prSeedRecord)}, {"PR reviewed plans", obj(n.prPlans)}}
	if n.table != "" {
		item := func(g glob) glob { return g.prepend("dynamodb://" + n.st.DynamoDBTable + "/") }
		out = append(out, named{"PR lock item", item(n.prLockItem)}, named{"PR digest item", item(n.prDigest)})
	}
	return out
}

// checkSeparated refuses stacks where a PR pattern of one matches a
// production name of any: IAM's "*" matches any run of characters, so a
// template such as {key}{pr} (PR keys app/terraform.tfstate7) has no
// pattern that leaves production's lock file out.
func checkSeparated(all []names) error {
	for _, s := range all {
		for _, p := range s.prNames() {
			for _, t := range all {
				for _, prod := range t.productionNames() {
					if intersects(p.name, prod.name) {
						return usage.Errorf("no IAM pattern separates the PR keys of %s from production: the %s pattern %s also matches production %s's %s %s; use a key template that gives {pr} a path segment of its own (the default {dir}/pr-{pr}/{file})",
							s.st.Keys.Production, p.what, p.name.String(), t.st.Keys.Production, prod.what, prod.name.String())
					}
				}
			}
		}
	}
	return nil
}
