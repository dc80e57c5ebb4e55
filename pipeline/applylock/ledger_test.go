package applylock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// testLedger checks one ledger backend: empty, create, read back, a stale
// writer failing loudly, and where the record lives.
func testLedger(t *testing.T, bucket storage.Bucket, table storage.Table, lockBackend string) {
	t.Helper()
	ctx := context.Background()
	const key = "app/terraform.tfstate"
	l := NewLedger(bucket, table, lockBackend, key)

	rec, err := l.Read(ctx)
	if err != nil || !rec.Empty() {
		t.Fatalf("empty ledger: %+v, %v", rec, err)
	}
	a := LedgerEntry{SHA: strings.Repeat("a", 40), Run: Run{Repository: "acme/infra", RunID: "1", RunURL: "https://github.com/acme/infra/actions/runs/1"}, PR: 7, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if _, err := l.Write(ctx, rec, a); err != nil {
		t.Fatalf("create: %v", err)
	}
	// A second creator that also saw the ledger empty loses.
	if _, err := l.Write(ctx, rec, LedgerEntry{SHA: strings.Repeat("b", 40)}); !errors.Is(err, ErrLedgerChanged) {
		t.Fatalf("second create: %v, want ErrLedgerChanged", err)
	}
	r1, err := l.Read(ctx)
	if err != nil || r1.Entry != a {
		t.Fatalf("read back: %+v, %v; want %+v", r1.Entry, err, a)
	}
	r2, _ := l.Read(ctx)
	b := LedgerEntry{SHA: strings.Repeat("b", 40), Run: Run{RunURL: "https://github.com/acme/infra/actions/runs/2"}, Started: a.Started.Add(time.Minute)}
	w1, err := l.Write(ctx, r1, b)
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	if _, err := l.Write(ctx, r2, LedgerEntry{SHA: strings.Repeat("c", 40)}); !errors.Is(err, ErrLedgerChanged) || !strings.Contains(err.Error(), l.Where()) {
		t.Fatalf("stale writer: %v, want ErrLedgerChanged naming %s", err, l.Where())
	}
	// The record returned by Write is good for the next write.
	c := LedgerEntry{SHA: strings.Repeat("c", 40), Started: b.Started.Add(time.Minute)}
	if _, err := l.Write(ctx, w1, c); err != nil {
		t.Fatalf("write after write: %v", err)
	}
	if got, _ := l.Read(ctx); got.Entry != c {
		t.Fatalf("final: %+v", got.Entry)
	}

	// It lives beside the apply lock, and nowhere else; Where names it in
	// the one form of every record.
	want := "s3://" + bucket.Name() + "/" + key + ".prstate-ledger.json"
	if lockBackend == "dynamodb" {
		want = "dynamodb://" + table.Name() + "/" + bucket.Name() + "/" + key + ".prstate-ledger"
	}
	if l.Where() != want {
		t.Errorf("Where() = %q, want %q", l.Where(), want)
	}
	if lockBackend == "dynamodb" {
		item, err := table.GetItem(ctx, bucket.Name()+"/"+key+".prstate-ledger")
		if err != nil || !strings.Contains(item["Ledger"], `"sha":"`+strings.Repeat("c", 40)+`"`) {
			t.Fatalf("item: %v, %v", item, err)
		}
		if _, err := bucket.GetObject(ctx, key+".prstate-ledger.json"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("S3 ledger written beside a DynamoDB one: %v", err)
		}
	} else {
		obj, err := bucket.GetObject(ctx, key+".prstate-ledger.json")
		if err != nil || !strings.Contains(string(obj.Body), `"sha":"`+strings.Repeat("c", 40)+`"`) {
			t.Fatalf("object: %q, %v", obj.Body, err)
		}
	}
}

func TestLedgerMemstore(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"s3", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			testLedger(t, memstore.NewBucket("acme-state"), memstore.NewTable("locks"), backend)
		})
	}
}

func TestLedgerMoto(t *testing.T) {
	t.Parallel()
	m := testenv.Moto(t)
	for _, backend := range []string{"s3", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			bucket := m.Bucket(t, m.NewBucket(t, true))
			var table storage.Table
			if backend == "dynamodb" {
				table = m.Table(t, m.NewTable(t))
			}
			testLedger(t, bucket, table, backend)
		})
	}
}

func TestLedgerRejectsGarbage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memstore.NewBucket("acme-state")
	if _, err := bucket.PutObject(ctx, "app/terraform.tfstate.prstate-ledger.json", []byte("{}"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	l := NewLedger(bucket, nil, "s3", "app/terraform.tfstate")
	if _, err := l.Read(ctx); err == nil || !strings.Contains(err.Error(), "delete it to start over") {
		t.Fatalf("garbage ledger: %v", err)
	}
	if _, err := l.Write(ctx, LedgerRecord{}, LedgerEntry{}); err == nil {
		t.Fatal("wrote an entry without a SHA")
	}
}
