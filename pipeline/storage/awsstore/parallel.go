package awsstore

import (
	"context"
	"errors"
	"sync"
)

// maxParallel bounds concurrent batch requests per call.
const maxParallel = 8

// forEachBatch calls fn for consecutive [lo, hi) ranges of at most size
// elements out of n, at most parallel at a time. Every batch runs (one
// failure does not stop the others) unless ctx is done; the errors are
// joined.
func forEachBatch(ctx context.Context, n, size, parallel int, fn func(ctx context.Context, lo, hi int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, parallel)
	)
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return errors.Join(append(errs, err)...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, lo, hi); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
