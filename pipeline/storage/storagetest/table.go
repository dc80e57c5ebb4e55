package storagetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/prstate/prstate/pipeline/storage"
)

// RunTable runs the table conformance suite. newTable returns a table with
// partition key LockID (string) for one subtest.
func RunTable(t *testing.T, newTable func(t *testing.T) storage.Table) {
	tests := []struct {
		name string
		fn   func(t *testing.T, tb storage.Table, p string)
	}{
		{"Name", tableName},
		{"GetMissing", tableGetMissing},
		{"PutGet", tablePutGet},
		{"PutWithoutLockID", tablePutWithoutLockID},
		{"PutIfAbsent", tablePutIfAbsent},
		{"PutIfEquals", tablePutIfEquals},
		{"PutChecked", tablePutChecked},
		{"ExclusiveConditions", tableExclusiveConditions},
		{"DeleteUnconditional", tableDeleteUnconditional},
		{"DeleteIfEquals", tableDeleteIfEquals},
		{"DeleteIfAbsent", tableDeleteIfAbsent},
		{"ScanPrefix", tableScanPrefix},
		{"DeleteItemsBatches", tableDeleteItemsBatches},
		{"ConcurrentCreate", tableConcurrentCreate},
		{"ConcurrentReplace", tableConcurrentReplace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newTable(t), prefix(t))
		})
	}
}

func tableName(t *testing.T, tb storage.Table, _ string) {
	if tb.Name() == "" {
		t.Fatal("Name() is empty")
	}
}

func tableGetMissing(t *testing.T, tb storage.Table, p string) {
	_, err := tb.GetItem(t.Context(), p+"missing")
	isErr(t, err, storage.ErrNotFound, "GetItem of a missing item")
}

// putItem writes it unconditionally.
func putItem(t *testing.T, tb storage.Table, it storage.Item) {
	t.Helper()
	noErr(t, tb.PutItem(t.Context(), it, storage.Condition{}), "PutItem "+it[storage.KeyAttr])
}

// wantItem checks that lockID holds exactly want.
func wantItem(t *testing.T, tb storage.Table, want storage.Item) {
	t.Helper()
	got, err := tb.GetItem(t.Context(), want[storage.KeyAttr])
	noErr(t, err, "GetItem "+want[storage.KeyAttr])
	if !maps.Equal(got, want) {
		t.Fatalf("GetItem: got %v, want %v", got, want)
	}
}

// wantNoItem checks that lockID is absent.
func wantNoItem(t *testing.T, tb storage.Table, lockID string) {
	t.Helper()
	_, err := tb.GetItem(t.Context(), lockID)
	isErr(t, err, storage.ErrNotFound, "GetItem "+lockID)
}

func tablePutGet(t *testing.T, tb storage.Table, p string) {
	it := storage.Item{storage.KeyAttr: p + "bucket/app/terraform.tfstate", "Info": `{"ID":"x","Operation":"OperationTypeApply"}`}
	putItem(t, tb, it)
	wantItem(t, tb, it)
	digest := storage.Item{storage.KeyAttr: p + "bucket/app/terraform.tfstate-md5", "Digest": "d41d8cd98f00b204e9800998ecf8427e"}
	putItem(t, tb, digest)
	wantItem(t, tb, digest)

	// An unconditional put replaces the whole item.
	replaced := storage.Item{storage.KeyAttr: it[storage.KeyAttr], "Other": "y"}
	putItem(t, tb, replaced)
	wantItem(t, tb, replaced)

	// Neither the caller's map nor a returned one aliases the stored item.
	mine := storage.Item{storage.KeyAttr: p + "copy", "Info": "a"}
	putItem(t, tb, mine)
	mine["Info"] = "changed"
	got, err := tb.GetItem(t.Context(), p+"copy")
	noErr(t, err, "GetItem copy")
	got["Info"] = "changed too"
	wantItem(t, tb, storage.Item{storage.KeyAttr: p + "copy", "Info": "a"})
}

func tablePutWithoutLockID(t *testing.T, tb storage.Table, _ string) {
	if err := tb.PutItem(t.Context(), storage.Item{"Info": "x"}, storage.Condition{}); err == nil {
		t.Fatal("PutItem without LockID succeeded")
	}
}

func tablePutIfAbsent(t *testing.T, tb storage.Table, p string) {
	first := storage.Item{storage.KeyAttr: p + "lock", "Info": "first"}
	noErr(t, tb.PutItem(t.Context(), first, storage.Condition{Absent: true}), "PutItem Absent of a new item")
	err := tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: p + "lock", "Info": "second"}, storage.Condition{Absent: true})
	isErr(t, err, storage.ErrPrecondition, "PutItem Absent of an existing item")
	wantItem(t, tb, first)
}

// tablePutChecked: a put conditional on another item (a ledger entry on
// its apply lock's record) writes only when both conditions hold, and
// says which one failed.
func tablePutChecked(t *testing.T, tb storage.Table, p string) {
	lock, ledger := p+"app.prstate-apply", p+"app.prstate-ledger"
	onLock := storage.Check{LockID: lock, Cond: storage.Condition{Attr: "Info", Equals: "ours"}}
	first := storage.Item{storage.KeyAttr: ledger, "Ledger": "a"}
	err := tb.PutItemChecked(t.Context(), first, storage.Condition{Absent: true}, onLock)
	isErr(t, err, storage.ErrCheckFailed, "PutItemChecked with the checked item absent")
	wantNoItem(t, tb, ledger)

	putItem(t, tb, storage.Item{storage.KeyAttr: lock, "Info": "ours"})
	noErr(t, tb.PutItemChecked(t.Context(), first, storage.Condition{Absent: true}, onLock), "PutItemChecked")
	wantItem(t, tb, first)

	second := storage.Item{storage.KeyAttr: ledger, "Ledger": "b"}
	err = tb.PutItemChecked(t.Context(), second, storage.Condition{Attr: "Ledger", Equals: "stale"}, onLock)
	isErr(t, err, storage.ErrPrecondition, "PutItemChecked with its own condition failing")
	if errors.Is(err, storage.ErrCheckFailed) {
		t.Fatalf("PutItemChecked blamed the check for its own condition: %v", err)
	}
	wantItem(t, tb, first)

	putItem(t, tb, storage.Item{storage.KeyAttr: lock, "Info": "theirs"})
	err = tb.PutItemChecked(t.Context(), second, storage.Condition{Attr: "Ledger", Equals: "a"}, onLock)
	isErr(t, err, storage.ErrCheckFailed, "PutItemChecked after the checked item changed")
	wantItem(t, tb, first)
	wantItem(t, tb, storage.Item{storage.KeyAttr: lock, "Info": "theirs"})

	putItem(t, tb, storage.Item{storage.KeyAttr: lock, "Info": "ours"})
	noErr(t, tb.PutItemChecked(t.Context(), second, storage.Condition{Attr: "Ledger", Equals: "a"}, onLock), "PutItemChecked on the current version")
	wantItem(t, tb, second)
}

func tablePutIfEquals(t *testing.T, tb storage.Table, p string) {
	id := p + "lock"
	putItem(t, tb, storage.Item{storage.KeyAttr: id, "Info": "a", "RVN": "1"})
	next := storage.Item{storage.KeyAttr: id, "Info": "b", "RVN": "2"}
	noErr(t, tb.PutItem(t.Context(), next, storage.Condition{Attr: "RVN", Equals: "1"}), "PutItem RVN = 1")
	wantItem(t, tb, next)
	err := tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: id, "RVN": "3"}, storage.Condition{Attr: "RVN", Equals: "1"})
	isErr(t, err, storage.ErrPrecondition, "PutItem with a stale RVN")
	err = tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: id, "RVN": "3"}, storage.Condition{Attr: "Missing", Equals: ""})
	isErr(t, err, storage.ErrPrecondition, "PutItem conditional on a missing attribute")
	wantItem(t, tb, next)
	err = tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: p + "absent", "RVN": "1"}, storage.Condition{Attr: "RVN", Equals: "1"})
	isErr(t, err, storage.ErrPrecondition, "PutItem Attr condition on an absent item")
	wantNoItem(t, tb, p+"absent")
}

func tableExclusiveConditions(t *testing.T, tb storage.Table, p string) {
	err := tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: p + "x"}, storage.Condition{Absent: true, Attr: "Info", Equals: "x"})
	if err == nil {
		t.Fatal("PutItem with Absent and Attr succeeded")
	}
	wantNoItem(t, tb, p+"x")
}

func tableDeleteUnconditional(t *testing.T, tb storage.Table, p string) {
	noErr(t, tb.DeleteItem(t.Context(), p+"absent", storage.Condition{}), "DeleteItem of an absent item")
	putItem(t, tb, storage.Item{storage.KeyAttr: p + "x", "Info": "i"})
	noErr(t, tb.DeleteItem(t.Context(), p+"x", storage.Condition{}), "DeleteItem")
	wantNoItem(t, tb, p+"x")
}

func tableDeleteIfEquals(t *testing.T, tb storage.Table, p string) {
	it := storage.Item{storage.KeyAttr: p + "lock", "Info": `{"ID":"mine"}`}
	putItem(t, tb, it)
	isErr(t, tb.DeleteItem(t.Context(), p+"lock", storage.Condition{Attr: "Info", Equals: `{"ID":"theirs"}`}),
		storage.ErrPrecondition, "DeleteItem with another Info")
	isErr(t, tb.DeleteItem(t.Context(), p+"lock", storage.Condition{Attr: "Digest", Equals: `{"ID":"mine"}`}),
		storage.ErrPrecondition, "DeleteItem conditional on a missing attribute")
	wantItem(t, tb, it)
	noErr(t, tb.DeleteItem(t.Context(), p+"lock", storage.Condition{Attr: "Info", Equals: `{"ID":"mine"}`}), "DeleteItem with our Info")
	wantNoItem(t, tb, p+"lock")
	isErr(t, tb.DeleteItem(t.Context(), p+"lock", storage.Condition{Attr: "Info", Equals: `{"ID":"mine"}`}),
		storage.ErrPrecondition, "DeleteItem Attr condition on an absent item")
}

func tableDeleteIfAbsent(t *testing.T, tb storage.Table, p string) {
	putItem(t, tb, storage.Item{storage.KeyAttr: p + "x"})
	isErr(t, tb.DeleteItem(t.Context(), p+"x", storage.Condition{Absent: true}), storage.ErrPrecondition, "DeleteItem Absent of an existing item")
	wantItem(t, tb, storage.Item{storage.KeyAttr: p + "x"})
	noErr(t, tb.DeleteItem(t.Context(), p+"y", storage.Condition{Absent: true}), "DeleteItem Absent of an absent item")
}

// scanIDs returns the sorted LockIDs under prefix.
func scanIDs(t *testing.T, tb storage.Table, prefix string) []string {
	t.Helper()
	items, err := tb.ScanItems(t.Context(), prefix)
	noErr(t, err, "ScanItems "+prefix)
	var ids []string
	for _, it := range items {
		ids = append(ids, it[storage.KeyAttr])
	}
	return sortedStrings(ids)
}

func tableScanPrefix(t *testing.T, tb storage.Table, p string) {
	ids := []string{"b/app/pr-1/terraform.tfstate", "b/app/pr-1/terraform.tfstate-md5", "b/app/pr-1/terraform.tfstate.prstate-apply", "b/app/terraform.tfstate", "b/app2/terraform.tfstate"}
	for _, id := range ids {
		putItem(t, tb, storage.Item{storage.KeyAttr: p + id, "Digest": "d-" + id})
	}
	check := func(prefix string, rel ...string) {
		t.Helper()
		var want []string
		for _, id := range rel {
			want = append(want, p+id)
		}
		if got := scanIDs(t, tb, p+prefix); !slices.Equal(got, sortedStrings(want)) {
			t.Fatalf("ScanItems %q: got %q, want %q", prefix, got, want)
		}
	}
	check("b/app/pr-1/", ids[0], ids[1], ids[2])
	check("b/app/", ids[0], ids[1], ids[2], ids[3])
	check("b/app", ids...)
	check("nothing")
	items, err := tb.ScanItems(t.Context(), p+ids[1])
	noErr(t, err, "ScanItems")
	if len(items) != 1 || !maps.Equal(items[0], storage.Item{storage.KeyAttr: p + ids[1], "Digest": "d-" + ids[1]}) {
		t.Fatalf("ScanItems returned %v", items)
	}
}

func tableDeleteItemsBatches(t *testing.T, tb storage.Table, p string) {
	const n = 60
	var ids []string
	errs := Race(8, func(w int) error {
		for i := w; i < n; i += 8 {
			if err := tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: fmt.Sprintf("%sgone/%03d", p, i), "Info": "x"}, storage.Condition{}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, err := range errs {
		noErr(t, err, "PutItem")
	}
	for i := range n {
		ids = append(ids, fmt.Sprintf("%sgone/%03d", p, i))
	}
	putItem(t, tb, storage.Item{storage.KeyAttr: p + "kept"})
	// Duplicates and absent IDs are fine.
	ids = append(ids, ids[0], ids[30], p+"never-written")
	noErr(t, tb.DeleteItems(t.Context(), ids), "DeleteItems")
	if left := scanIDs(t, tb, p+"gone/"); len(left) != 0 {
		t.Fatalf("%d items left after DeleteItems: %v", len(left), left)
	}
	wantItem(t, tb, storage.Item{storage.KeyAttr: p + "kept"})
	noErr(t, tb.DeleteItems(t.Context(), nil), "DeleteItems of nothing")
}

func tableConcurrentCreate(t *testing.T, tb storage.Table, p string) {
	id := p + "bucket/app/terraform.tfstate.prstate-apply"
	errs := Race(concurrency, func(i int) error {
		return tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: id, "Info": fmt.Sprint("holder ", i)}, storage.Condition{Absent: true})
	})
	w := OneWinner(t, errs, storage.ErrPrecondition)
	wantItem(t, tb, storage.Item{storage.KeyAttr: id, "Info": fmt.Sprint("holder ", w)})
}

func tableConcurrentReplace(t *testing.T, tb storage.Table, p string) {
	id := p + "bucket/app/terraform.tfstate.prstate-apply"
	putItem(t, tb, storage.Item{storage.KeyAttr: id, "RVN": "old"})
	errs := Race(concurrency, func(i int) error {
		return tb.PutItem(t.Context(), storage.Item{storage.KeyAttr: id, "RVN": fmt.Sprint("taker ", i)}, storage.Condition{Attr: "RVN", Equals: "old"})
	})
	w := OneWinner(t, errs, storage.ErrPrecondition)
	wantItem(t, tb, storage.Item{storage.KeyAttr: id, "RVN": fmt.Sprint("taker ", w)})
}
