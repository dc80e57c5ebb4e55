package memstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

// Table is an in-memory DynamoDB table keyed by storage.KeyAttr.
type Table struct {
	name  string
	calls callCounter

	mu    sync.Mutex
	items map[string]storage.Item
}

var _ storage.Table = (*Table)(nil)

// NewTable returns an empty table.
func NewTable(name string) *Table {
	return &Table{name: name, items: make(map[string]storage.Item)}
}

// Name returns the table name.
func (t *Table) Name() string { return t.name }

// Calls returns how many times each method was called, by method name.
func (t *Table) Calls() map[string]int { return t.calls.snapshot() }

// ResetCalls sets every call count back to zero.
func (t *Table) ResetCalls() { t.calls.reset() }

// check evaluates cond against the stored item (nil when absent) the way
// DynamoDB evaluates attribute_not_exists(LockID) and #a = :v.
func check(cur storage.Item, cond storage.Condition) (ok bool, err error) {
	switch {
	case cond.Absent && cond.Attr != "":
		return false, fmt.Errorf("invalid condition: Absent and Attr are exclusive")
	case cond.Absent:
		return cur == nil, nil
	case cond.Attr != "":
		if cur == nil {
			return false, nil
		}
		v, found := cur[cond.Attr]
		return found && v == cond.Equals, nil
	default:
		return true, nil
	}
}

// GetItemAt is GetItem with the process's clock as the server's.
func (t *Table) GetItemAt(ctx context.Context, lockID string) (storage.Item, time.Time, error) {
	it, err := t.GetItem(ctx, lockID)
	return it, time.Now(), err
}

// GetItem returns the item with lockID; ErrNotFound when absent.
func (t *Table) GetItem(ctx context.Context, lockID string) (storage.Item, error) {
	t.calls.add("GetItem")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to get item %s: %w", lockID, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	it, ok := t.items[lockID]
	if !ok {
		return nil, fmt.Errorf("failed to get item %s: %w", lockID, storage.ErrNotFound)
	}
	return cloneItem(it), nil
}

// PutItem writes item when cond holds; ErrPrecondition otherwise.
func (t *Table) PutItem(ctx context.Context, item storage.Item, cond storage.Condition) error {
	t.calls.add("PutItem")
	id := item[storage.KeyAttr]
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to put item %s: %w", id, err)
	}
	if id == "" {
		return fmt.Errorf("failed to put item: missing %s", storage.KeyAttr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ok, err := check(t.items[id], cond)
	if err != nil {
		return fmt.Errorf("failed to put item %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("failed to put item %s: %w", id, storage.ErrPrecondition)
	}
	t.items[id] = cloneItem(item)
	return nil
}

// PutItemChecked writes item when cond holds on it and check on
// check.LockID, under one lock: ErrPrecondition or ErrCheckFailed.
func (t *Table) PutItemChecked(ctx context.Context, item storage.Item, cond storage.Condition, c storage.Check) error {
	t.calls.add("PutItemChecked")
	id := item[storage.KeyAttr]
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to put item %s: %w", id, err)
	}
	if id == "" || c.LockID == "" || c.LockID == id {
		return fmt.Errorf("failed to put item %q checking %q: both keys are needed, and they must differ", id, c.LockID)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ok, err := check(t.items[id], cond)
	if err != nil {
		return fmt.Errorf("failed to put item %s: %w", id, err)
	}
	okCheck, err := check(t.items[c.LockID], c.Cond)
	if err != nil {
		return fmt.Errorf("failed to put item %s: %w", id, err)
	}
	switch {
	case !okCheck:
		return fmt.Errorf("failed to put item %s: %s: %w", id, c.LockID, storage.ErrCheckFailed)
	case !ok:
		return fmt.Errorf("failed to put item %s: %w", id, storage.ErrPrecondition)
	}
	t.items[id] = cloneItem(item)
	return nil
}

// DeleteItem deletes lockID when cond holds; ErrPrecondition otherwise.
// An unconditional delete of an absent item succeeds.
func (t *Table) DeleteItem(ctx context.Context, lockID string, cond storage.Condition) error {
	t.calls.add("DeleteItem")
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to delete item %s: %w", lockID, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ok, err := check(t.items[lockID], cond)
	if err != nil {
		return fmt.Errorf("failed to delete item %s: %w", lockID, err)
	}
	if !ok {
		return fmt.Errorf("failed to delete item %s: %w", lockID, storage.ErrPrecondition)
	}
	delete(t.items, lockID)
	return nil
}

// ScanItems returns the items whose LockID begins with prefix, ordered by
// LockID (DynamoDB itself returns them in no useful order).
func (t *Table) ScanItems(ctx context.Context, prefix string) ([]storage.Item, error) {
	t.calls.add("ScanItems")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to scan items %s: %w", prefix, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []storage.Item
	for id, it := range t.items {
		if strings.HasPrefix(id, prefix) {
			out = append(out, cloneItem(it))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][storage.KeyAttr] < out[j][storage.KeyAttr] })
	return out, nil
}

// DeleteItems deletes the given LockIDs unconditionally.
func (t *Table) DeleteItems(ctx context.Context, lockIDs []string) error {
	t.calls.add("DeleteItems")
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("failed to delete items: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range lockIDs {
		delete(t.items, id)
	}
	return nil
}
