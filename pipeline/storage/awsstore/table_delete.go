package awsstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// batchWriteMax is the most requests one BatchWriteItem takes.
	batchWriteMax = 25
	// unprocessedAttempts bounds the retries of UnprocessedItems.
	unprocessedAttempts = 10
	backoffBase         = 50 * time.Millisecond
	backoffCap          = 5 * time.Second
)

// DeleteItems deletes lockIDs with BatchWriteItem, 25 a request and up to
// maxParallel requests at a time, retrying UnprocessedItems with jittered
// exponential backoff. Duplicate IDs are dropped (DynamoDB rejects a batch
// that names one key twice).
func (t *table) DeleteItems(ctx context.Context, lockIDs []string) error {
	seen := make(map[string]bool, len(lockIDs))
	reqs := make([]types.WriteRequest, 0, len(lockIDs))
	for _, id := range lockIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: keyOf(id)}})
	}
	return forEachBatch(ctx, len(reqs), batchWriteMax, maxParallel, func(ctx context.Context, lo, hi int) error {
		return t.deleteBatch(ctx, reqs[lo:hi])
	})
}

// deleteBatch sends one batch and resends what DynamoDB left unprocessed.
func (t *table) deleteBatch(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; ; attempt++ {
		out, err := t.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{t.name: reqs},
		})
		if err != nil {
			return t.fail(fmt.Sprintf("delete %d items from %s", len(reqs), t.name), "dynamodb:BatchWriteItem", nil, err)
		}
		reqs = out.UnprocessedItems[t.name]
		if len(reqs) == 0 {
			return nil
		}
		if attempt+1 >= unprocessedAttempts {
			return fmt.Errorf("failed to delete %d items from %s: still unprocessed after %d attempts", len(reqs), t.name, unprocessedAttempts)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("failed to delete %d items from %s: %w", len(reqs), t.name, err)
		}
	}
}

// backoff is full-jitter exponential backoff for the given attempt.
func backoff(attempt int) time.Duration {
	d := min(backoffBase<<min(attempt, 16), backoffCap)
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
