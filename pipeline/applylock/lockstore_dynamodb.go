package applylock

import (
	"context"
	"time"

	"github.com/prstate/prstate/pipeline/storage"
)

type itemCAS interface {
	Name() string
	GetItemAt(ctx context.Context, lockID string) (storage.Item, time.Time, error)
	PutItem(ctx context.Context, item storage.Item, cond storage.Condition) error
	DeleteItem(ctx context.Context, lockID string, cond storage.Condition) error
}

// dynamoLockStore keeps the record in the Info attribute of one item, as
// Terraform does; the Info value itself is the version (every write
// carries a new RVN, so it changes at every write). DynamoDB honours the
// condition of a delete, so a release deletes the item (as Terraform and
// OpenTofu do), and no released record is ever written here.
type dynamoLockStore struct {
	t  itemCAS
	id string
}

// NewDynamoDBLockStore keeps a lock record in the item lockID of t.
func NewDynamoDBLockStore(t itemCAS, lockID string) LockStore {
	return &dynamoLockStore{t: t, id: lockID}
}

func (s *dynamoLockStore) Where() string { return "dynamodb://" + s.t.Name() + "/" + s.id }

func (s *dynamoLockStore) item(body []byte) storage.Item {
	return storage.Item{storage.KeyAttr: s.id, "Info": string(body)}
}

func (s *dynamoLockStore) Create(ctx context.Context, body []byte) (string, error) {
	if err := s.t.PutItem(ctx, s.item(body), storage.Condition{Absent: true}); err != nil {
		return "", err
	}
	return string(body), nil
}

// Read: DynamoDB keeps no write time; the answer's Date is its clock.
func (s *dynamoLockStore) Read(ctx context.Context) (Observation, error) {
	it, at, err := s.t.GetItemAt(ctx, s.id)
	if err != nil {
		return Observation{}, err
	}
	return Observation{Body: []byte(it["Info"]), Version: it["Info"], ServerNow: at}, nil
}

func (s *dynamoLockStore) Replace(ctx context.Context, body []byte, expected string) (string, error) {
	if err := s.t.PutItem(ctx, s.item(body), storage.Condition{Attr: "Info", Equals: expected}); err != nil {
		return "", err
	}
	return string(body), nil
}

func (s *dynamoLockStore) Delete(ctx context.Context, expected string) error {
	return s.t.DeleteItem(ctx, s.id, storage.Condition{Attr: "Info", Equals: expected})
}

// Guard: the lock item's Info is still version (it carries the RVN).
func (s *dynamoLockStore) Guard(version string) *storage.Check {
	return &storage.Check{LockID: s.id, Cond: storage.Condition{Attr: "Info", Equals: version}}
}
