package lockstoretest_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/applylock/lockstoretest"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var seq atomic.Int64

func key() string { return fmt.Sprintf("app-%d/terraform.tfstate", seq.Add(1)) }

func TestMemstoreS3(t *testing.T) {
	b := memstore.NewBucket("acme")
	lockstoretest.Run(t, func(t *testing.T) applylock.LockStore {
		return applylock.NewS3LockStore(b, statekey.ApplyLockKey(key()))
	})
}

func TestMemstoreDynamoDB(t *testing.T) {
	tb := memstore.NewTable("locks")
	lockstoretest.Run(t, func(t *testing.T) applylock.LockStore {
		return applylock.NewDynamoDBLockStore(tb, statekey.ApplyLockItemID("acme", key()))
	})
}

func TestMotoS3(t *testing.T) {
	m := testenv.Moto(t)
	client := s3.NewFromConfig(m.SerialConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	for _, versioned := range []bool{true, false} {
		t.Run(fmt.Sprintf("versioned=%v", versioned), func(t *testing.T) {
			b := awsstore.NewBucket(client, m.NewBucket(t, versioned))
			lockstoretest.Run(t, func(t *testing.T) applylock.LockStore {
				return applylock.NewS3LockStore(b, statekey.ApplyLockKey(key()))
			})
		})
	}
}

func TestMotoDynamoDB(t *testing.T) {
	m := testenv.Moto(t)
	tb := awsstore.NewTable(dynamodb.NewFromConfig(m.SerialConfig(t)), m.NewTable(t))
	lockstoretest.Run(t, func(t *testing.T) applylock.LockStore {
		return applylock.NewDynamoDBLockStore(tb, statekey.ApplyLockItemID("acme", key()))
	})
}

// TestMinIOS3: MinIO executes conditional PUTs atomically but ignores
// If-Match on DELETE; the suite holds without a serializing proxy.
func TestMinIOS3(t *testing.T) {
	m := testenv.MinIO(t)
	for _, versioned := range []bool{true, false} {
		t.Run(fmt.Sprintf("versioned=%v", versioned), func(t *testing.T) {
			b := m.Bucket(t, m.NewBucket(t, versioned))
			lockstoretest.Run(t, func(t *testing.T) applylock.LockStore {
				return applylock.NewS3LockStore(b, statekey.ApplyLockKey(key()))
			})
		})
	}
}
