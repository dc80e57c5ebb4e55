// Package recordtest is the conformance suite of a compare-and-swap
// record (record.Record, and the apply lock's store built on it): on S3
// (ETags, If-None-Match, If-Match, a tombstone for a release) and on
// DynamoDB (conditions on the record's attribute). It runs against the
// in-memory fake, moto and MinIO alike.
package recordtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/record"
	"github.com/prstate/prstate/pipeline/storage/storagetest"
)

// Record is the compare-and-swap surface the suite checks:
// *record.Record and applylock.LockStore.
type Record interface {
	Create(ctx context.Context, body []byte) (version string, err error)
	Read(ctx context.Context) (record.Observation, error)
	Replace(ctx context.Context, body []byte, expected string) (version string, err error)
	Delete(ctx context.Context, expected string) error
	Where() string
}

// concurrency is how many goroutines race for one record.
const concurrency = 16

// Run runs the suite. newStore returns an empty record of its own for
// each subtest (subtests run in parallel).
func Run(t *testing.T, newStore func(t *testing.T) Record) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Record)
	}{
		{"ReadMissing", readMissing},
		{"CreateRead", createRead},
		{"CreateExisting", createExisting},
		{"ReplaceCurrent", replaceCurrent},
		{"ReplaceStale", replaceStale},
		{"ReplaceMissing", replaceMissing},
		{"DeleteCurrent", deleteCurrent},
		{"DeleteStale", deleteStale},
		{"DeleteMissing", deleteMissing},
		{"StaleDeleteAfterRecreate", staleDeleteAfterRecreate},
		{"ReleasedIsFree", releasedIsFree},
		{"ServerClock", serverClock},
		{"ConcurrentCreate", concurrentCreate},
		{"ConcurrentCreateAfterDelete", concurrentCreateAfterDelete},
		{"ConcurrentReplace", concurrentReplace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func body(n int) []byte { return []byte(fmt.Sprintf(`{"ID":"holder-%d"}`, n)) }

// read is Read without the store's clock.
func read(t *testing.T, s Record) ([]byte, string, error) {
	obs, err := s.Read(t.Context())
	return obs.Body, obs.Version, err
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func isErr(t *testing.T, err error, what string, want ...error) {
	t.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Fatalf("%s: got %v, want one of %v", what, err, want)
}

func readMissing(t *testing.T, s Record) {
	_, _, err := read(t, s)
	isErr(t, err, "Read of a missing record", storage.ErrNotFound)
	if s.Where() == "" {
		t.Fatal("Where() is empty")
	}
}

func createRead(t *testing.T, s Record) {
	v, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	b, rv, err := read(t, s)
	must(t, err, "Read")
	if string(b) != string(body(1)) || rv != v || v == "" {
		t.Fatalf("Read = %q version %q; Create gave version %q", b, rv, v)
	}
}

func createExisting(t *testing.T, s Record) {
	_, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	_, err = s.Create(t.Context(), body(2))
	isErr(t, err, "second Create", storage.ErrPrecondition)
	b, _, _ := read(t, s)
	if string(b) != string(body(1)) {
		t.Fatalf("the losing create overwrote the record: %q", b)
	}
}

func replaceCurrent(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	v2, err := s.Replace(t.Context(), body(2), v1)
	must(t, err, "Replace")
	b, rv, err := read(t, s)
	must(t, err, "Read")
	if string(b) != string(body(2)) || rv != v2 || v2 == v1 {
		t.Fatalf("after Replace: %q version %q (replace gave %q, create %q)", b, rv, v2, v1)
	}
}

func replaceStale(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	_, err = s.Replace(t.Context(), body(2), v1)
	must(t, err, "Replace")
	_, err = s.Replace(t.Context(), body(3), v1)
	isErr(t, err, "Replace on a stale version", storage.ErrPrecondition)
	b, _, _ := read(t, s)
	if string(b) != string(body(2)) {
		t.Fatalf("stale replace wrote: %q", b)
	}
}

func replaceMissing(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	must(t, s.Delete(t.Context(), v1), "Delete")
	_, err = s.Replace(t.Context(), body(2), v1)
	isErr(t, err, "Replace of a deleted record", storage.ErrPrecondition, storage.ErrNotFound)
	_, _, err = read(t, s)
	isErr(t, err, "Read after a failed replace", storage.ErrNotFound)
}

func deleteCurrent(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	must(t, s.Delete(t.Context(), v1), "Delete")
	_, _, err = read(t, s)
	isErr(t, err, "Read after Delete", storage.ErrNotFound)
	_, err = s.Create(t.Context(), body(2))
	must(t, err, "Create after Delete")
}

func deleteStale(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	_, err = s.Replace(t.Context(), body(2), v1)
	must(t, err, "Replace")
	isErr(t, s.Delete(t.Context(), v1), "Delete on a stale version", storage.ErrPrecondition)
	b, _, err := read(t, s)
	must(t, err, "Read")
	if string(b) != string(body(2)) {
		t.Fatalf("stale delete removed or changed the record: %q", b)
	}
}

// deleteMissing: a retried delete whose first answer was lost finds
// nothing; the protocol accepts either answer.
func deleteMissing(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	must(t, s.Delete(t.Context(), v1), "Delete")
	isErr(t, s.Delete(t.Context(), v1), "second Delete", storage.ErrNotFound, storage.ErrPrecondition)
}

// staleDeleteAfterRecreate: a holder whose lock was released and taken
// again releases late (its first answer lost, say): the new holder's
// record stays. On S3 this must not depend on DELETE honouring If-Match.
func staleDeleteAfterRecreate(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	must(t, s.Delete(t.Context(), v1), "Delete")
	_, err = s.Create(t.Context(), body(2))
	must(t, err, "Create by the next holder")
	isErr(t, s.Delete(t.Context(), v1), "stale Delete", storage.ErrPrecondition, storage.ErrNotFound)
	b, _, err := read(t, s)
	must(t, err, "Read")
	if string(b) != string(body(2)) {
		t.Fatalf("a stale delete removed or changed the next holder's record: %q", b)
	}
}

// releasedIsFree: whatever a release leaves behind reads as no record,
// can be neither replaced nor deleted on the old version, and is taken by
// exactly one create.
func releasedIsFree(t *testing.T, s Record) {
	v1, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	must(t, s.Delete(t.Context(), v1), "Delete")
	for range 2 {
		_, _, err = read(t, s)
		isErr(t, err, "Read of a released record", storage.ErrNotFound)
	}
	_, err = s.Replace(t.Context(), body(2), v1)
	isErr(t, err, "Replace of a released record", storage.ErrPrecondition, storage.ErrNotFound)
	v3, err := s.Create(t.Context(), body(3))
	must(t, err, "Create over a released record")
	_, err = s.Create(t.Context(), body(4))
	isErr(t, err, "second Create", storage.ErrPrecondition)
	b, rv, err := read(t, s)
	must(t, err, "Read")
	if string(b) != string(body(3)) || rv != v3 {
		t.Fatalf("Read = %q version %q; want %q at %q", b, rv, body(3), v3)
	}
}

// serverClock: a read carries the store's clock, and on S3 its write time,
// so that waiters can share one clock.
func serverClock(t *testing.T, s Record) {
	before := time.Now()
	_, err := s.Create(t.Context(), body(1))
	must(t, err, "Create")
	obs, err := s.Read(t.Context())
	must(t, err, "Read")
	// HTTP dates carry whole seconds; allow for that and a loaded machine.
	if obs.ServerNow.IsZero() || obs.ServerNow.Before(before.Add(-2*time.Second)) || obs.ServerNow.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("ServerNow %v, read between %v and %v", obs.ServerNow, before, time.Now())
	}
	if !obs.Written.IsZero() && (obs.Written.After(obs.ServerNow.Add(time.Second)) || obs.Written.Before(before.Add(-2*time.Second))) {
		t.Fatalf("Written %v, ServerNow %v", obs.Written, obs.ServerNow)
	}
}

func concurrentCreateAfterDelete(t *testing.T, s Record) {
	v, err := s.Create(t.Context(), body(-1))
	must(t, err, "Create")
	must(t, s.Delete(t.Context(), v), "Delete")
	errs := storagetest.Race(concurrency, func(i int) error { _, err := s.Create(t.Context(), body(i)); return err })
	w := storagetest.OneWinner(t, errs, storage.ErrPrecondition)
	b, _, _ := read(t, s)
	if string(b) != string(body(w)) {
		t.Fatalf("record %q, winner %d", b, w)
	}
}

func concurrentCreate(t *testing.T, s Record) {
	errs := storagetest.Race(concurrency, func(i int) error { _, err := s.Create(t.Context(), body(i)); return err })
	w := storagetest.OneWinner(t, errs, storage.ErrPrecondition)
	b, _, _ := read(t, s)
	if string(b) != string(body(w)) {
		t.Fatalf("record %q, winner %d", b, w)
	}
}

func concurrentReplace(t *testing.T, s Record) {
	v, err := s.Create(t.Context(), body(-1))
	must(t, err, "Create")
	errs := storagetest.Race(concurrency, func(i int) error { _, err := s.Replace(t.Context(), body(i), v); return err })
	w := storagetest.OneWinner(t, errs, storage.ErrPrecondition)
	b, _, _ := read(t, s)
	if string(b) != string(body(w)) {
		t.Fatalf("record %q, winner %d", b, w)
	}
}

// RunChecked checks the writes made on a condition on another item of
// the table (a ledger written under the apply lock): they land while the
// other record is at the version the check names, and fail with
// storage.ErrCheckFailed, writing nothing, once it moved.
func RunChecked(t *testing.T, table record.Items) {
	ctx := t.Context()
	id := fmt.Sprintf("recordtest-%d", time.Now().UnixNano())
	lock := record.DynamoDB(table, id+"/lock", "Info")
	rec := record.DynamoDB(table, id+"/ledger", "Ledger")
	v, err := lock.Create(ctx, body(1))
	must(t, err, "Create of the lock")
	r1, err := rec.Write(ctx, body(10), "", lock.Guard(v))
	must(t, err, "checked Create")
	r2, err := rec.Write(ctx, body(11), r1, lock.Guard(v))
	must(t, err, "checked Replace")
	_, err = lock.Replace(ctx, body(2), v)
	must(t, err, "Replace of the lock")
	_, err = rec.Write(ctx, body(12), r2, lock.Guard(v))
	isErr(t, err, "checked Replace on a moved lock", storage.ErrCheckFailed)
	b, rv, err := read(t, rec)
	must(t, err, "Read")
	if string(b) != string(body(11)) || rv != r2 {
		t.Fatalf("a failed checked write changed the record: %q at %q", b, rv)
	}
	_, err = rec.Write(ctx, body(13), r1, nil)
	isErr(t, err, "Replace on a stale version", storage.ErrPrecondition)
}
