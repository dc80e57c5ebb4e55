package applylock

import (
	"context"

	"github.com/prstate/prstate/pipeline/storage"
)

// assumeHeld runs writes under the apply lock as if it were held: for
// tests of the ledger and supersede, not of the lock.
type assumeHeld struct{}

func (assumeHeld) WriteHeld(ctx context.Context, _ string, write func(context.Context, *storage.Check) error) error {
	return write(ctx, nil)
}
