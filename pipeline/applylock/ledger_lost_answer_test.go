package applylock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// lostAnswerLedger writes, then answers as a retried conditional write
// does when the first answer was lost: the condition no longer holds.
type lostAnswerLedger struct{ Ledger }

func (l lostAnswerLedger) WriteChecked(ctx context.Context, prev LedgerRecord, next LedgerEntry, lock *storage.Check) (LedgerRecord, error) {
	if _, err := l.Ledger.WriteChecked(ctx, prev, next, lock); err != nil {
		return LedgerRecord{}, err
	}
	return LedgerRecord{}, fmt.Errorf("failed to write the apply ledger %s: %w", l.Where(), ErrLedgerChanged)
}

func TestRecordApplyRecognisesItsOwnLostWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := lostAnswerLedger{NewLedger(memstore.NewBucket("acme-state"), nil, "s3", "app/terraform.tfstate")}
	rec, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := ci.Event{SHA: strings.Repeat("c", 40), Repository: "acme/infra", RunID: "7", RunAttempt: "1"}
	if _, err := RecordApply(ctx, assumeHeld{}, l, Verdict{record: rec}, ev, time.Now()); err != nil {
		t.Fatalf("own write whose answer was lost: %v", err)
	}
	// Someone else's entry is still an overlap.
	rec, _ = l.Read(ctx)
	other := lostAnswerLedger{failingLedger(l)}
	if _, err := RecordApply(ctx, assumeHeld{}, other, Verdict{record: rec}, ci.Event{SHA: strings.Repeat("d", 40), RunID: "8"}, time.Now()); !errors.Is(err, ErrLedgerChanged) {
		t.Fatalf("a write that did not land: %v, want ErrLedgerChanged", err)
	}
}

// failingLedger's writes never land.
type failingLedger struct{ Ledger }

func (failingLedger) WriteChecked(context.Context, LedgerRecord, LedgerEntry, *storage.Check) (LedgerRecord, error) {
	return LedgerRecord{}, nil
}
