package cli

import (
	"context"

	"github.com/prstate/prstate/pipeline/applylock"
)

// listStackLocks lists the locks of every stack's bucket and table, each
// store once (stacks that share a bucket and table share their listing).
func (inv *invocation) listStackLocks(ctx context.Context, runs applylock.RunChecker) ([]applylock.LockEntry, error) {
	type where struct{ bucket, region, table, s3, dynamodb string }
	seen := map[where]bool{}
	var all []applylock.LockEntry
	for _, st := range inv.cfg.Stacks {
		b := st.Backend
		w := where{b.Bucket, b.Region, b.DynamoDBTable, b.EndpointS3, b.EndpointDynamoDB}
		if seen[w] {
			continue
		}
		seen[w] = true
		store, err := inv.open(ctx, st)
		if err != nil {
			return nil, err
		}
		locks, err := applylock.ListLocks(ctx, store.Bucket, store.Table, runs, inv.app.Now())
		if err != nil {
			return nil, err
		}
		all = append(all, locks...)
	}
	return all, nil
}
