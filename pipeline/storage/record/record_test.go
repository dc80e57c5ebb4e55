package record_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/storage/record"
	"github.com/prstate/prstate/pipeline/storage/record/recordtest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var seq atomic.Int64

func key() string { return fmt.Sprintf("app-%d/terraform.tfstate.record", seq.Add(1)) }

// tombstone is a test's released record: its own marker and a fresh
// random tail, so no two share an ETag.
type tombstone struct{}

var marker = []byte(`{"released":`)

func (tombstone) New() []byte {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Appendf(nil, `{"released":%q}`, hex.EncodeToString(b[:]))
}

func (tombstone) Is(body []byte) bool { return bytes.HasPrefix(body, marker) }

func s3Records(b record.Objects) func(t *testing.T) recordtest.Record {
	return func(*testing.T) recordtest.Record { return record.S3(b, key(), tombstone{}) }
}

func itemRecords(tb record.Items, attr string) func(t *testing.T) recordtest.Record {
	return func(*testing.T) recordtest.Record { return record.DynamoDB(tb, "acme/"+key(), attr) }
}

func TestMemstoreS3(t *testing.T) { recordtest.Run(t, s3Records(memstore.NewBucket("acme"))) }

func TestMemstoreDynamoDB(t *testing.T) {
	tb := memstore.NewTable("locks")
	for _, attr := range []string{"Info", "Ledger", "Waiters"} {
		t.Run(attr, func(t *testing.T) { recordtest.Run(t, itemRecords(tb, attr)) })
	}
	t.Run("Checked", func(t *testing.T) { recordtest.RunChecked(t, tb) })
}

func TestMotoS3(t *testing.T) {
	m := testenv.Moto(t)
	client := s3.NewFromConfig(m.SerialConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	for _, versioned := range []bool{true, false} {
		t.Run(fmt.Sprintf("versioned=%v", versioned), func(t *testing.T) {
			recordtest.Run(t, s3Records(awsstore.NewBucket(client, m.NewBucket(t, versioned))))
		})
	}
}

func TestMotoDynamoDB(t *testing.T) {
	m := testenv.Moto(t)
	tb := awsstore.NewTable(dynamodb.NewFromConfig(m.SerialConfig(t)), m.NewTable(t))
	t.Run("Ledger", func(t *testing.T) { recordtest.Run(t, itemRecords(tb, "Ledger")) })
	t.Run("Checked", func(t *testing.T) { recordtest.RunChecked(t, tb) })
}

// TestMinIOS3: MinIO executes conditional PUTs atomically but ignores
// If-Match on DELETE; the tombstone makes a release conditional anyway.
func TestMinIOS3(t *testing.T) {
	m := testenv.MinIO(t)
	recordtest.Run(t, s3Records(m.Bucket(t, m.NewBucket(t, true))))
}

// TestWhere: one form for every record, whatever it holds.
func TestWhere(t *testing.T) {
	if got, want := record.S3(memstore.NewBucket("acme"), "app/terraform.tfstate.prstate-ledger.json", nil).Where(), "s3://acme/app/terraform.tfstate.prstate-ledger.json"; got != want {
		t.Errorf("S3 Where() = %q, want %q", got, want)
	}
	if got, want := record.DynamoDB(memstore.NewTable("locks"), "acme/app/terraform.tfstate.prstate-ledger", "Ledger").Where(), "dynamodb://locks/acme/app/terraform.tfstate.prstate-ledger"; got != want {
		t.Errorf("DynamoDB Where() = %q, want %q", got, want)
	}
}

// TestS3CheckRefused: a write on a condition on another item is refused
// on S3, before anything is written.
func TestS3CheckRefused(t *testing.T) {
	b := memstore.NewBucket("acme")
	r := record.S3(b, "k", tombstone{})
	_, err := r.Write(t.Context(), []byte("x"), "", &storage.Check{LockID: "acme/k.prstate-apply"})
	if err == nil || errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("checked write on S3: %v", err)
	}
	if _, err := r.Read(t.Context()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused write wrote: %v", err)
	}
	if r.Guard("v") != nil {
		t.Fatal("an S3 record offers a guard")
	}
}

// TestPutAndEncryption: Put overwrites whatever is there, and every write
// of an encrypted record asks S3 for its encryption.
func TestPutAndEncryption(t *testing.T) {
	b := memstore.NewBucket("acme")
	enc := storage.Encryption{SSE: "aws:kms", KMSKeyID: "k1"}
	r := record.S3Encrypted(b, "k", enc)
	for _, body := range []string{"one", "two"} {
		if _, err := r.Put(t.Context(), []byte(body)); err != nil {
			t.Fatal(err)
		}
		o, err := b.GetObject(t.Context(), "k")
		if err != nil || string(o.Body) != body || o.Encryption != enc {
			t.Fatalf("after Put(%q): %q %+v %v", body, o.Body, o.Encryption, err)
		}
	}
	if err := r.Delete(t.Context(), "x"); err == nil {
		t.Fatal("a record without a tombstone was released")
	}
}
