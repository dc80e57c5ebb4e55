package applylock

import (
	"encoding/json"
	"testing"
	"time"
)

// Bodies as the previous version (run fields written out in each type)
// encoded them: the embedded Run keeps every record byte-identical.
const (
	oldHolder  = `{"repository":"acme/infra","run_id":"9001","run_attempt":"2","run_url":"https://github.com/acme/infra/actions/runs/9001","sha":"0123456789abcdef0123456789abcdef01234567","pr":7,"rvn":"r1","lease":"5m0s","heartbeat":"1m40s","after":"id-0","renewed":"2026-11-23T01:02:03.0000004Z"}`
	oldLedger  = `{"sha":"0123456789abcdef0123456789abcdef01234567","repository":"acme/infra","run_id":"9001","run_attempt":"2","run_url":"https://github.com/acme/infra/actions/runs/9001","pr":7,"started":"2026-11-23T01:02:03.0000004Z","previous":"89abcdef0123456789abcdef0123456789abcdef"}`
	oldWaiters = `{"waiters":[{"id":"w-1","sha":"0123456789abcdef0123456789abcdef01234567","repository":"acme/infra","run_id":"9001","run_attempt":"2","run_url":"https://github.com/acme/infra/actions/runs/9001","pr":7,"since":"2026-11-23T01:02:03.0000004Z","renewed":"2026-11-23T01:03:03.0000004Z","rvn":"r2","lease":"1m0s"},{"id":"w-2","sha":"89abcdef0123456789abcdef0123456789abcdef","since":"2026-11-23T01:02:03.0000004Z","renewed":"2026-11-23T01:02:03.0000004Z","rvn":"r3","lease":"2m0s"}]}`
)

var wantRun = Run{Repository: "acme/infra", RunID: "9001", RunAttempt: "2", RunURL: "https://github.com/acme/infra/actions/runs/9001"}

func TestRunWireFormatHolder(t *testing.T) {
	t.Parallel()
	body := LockInfo{ID: "id-1", Operation: applyLockOperation, Info: oldHolder, Who: "runner@host", Version: "prstate", Created: time.Date(2026, 11, 23, 1, 2, 3, 4, time.UTC), Path: "app/terraform.tfstate"}.Marshal()
	rec, err := ParseRecord(body)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Holder.Run != wantRun || rec.Holder.SHA != "0123456789abcdef0123456789abcdef01234567" || rec.Holder.PR != 7 || rec.Holder.RVN != "r1" {
		t.Fatalf("decoded %+v", rec.Holder)
	}
	if got := rec.Marshal(); string(got) != string(body) {
		t.Fatalf("re-encoded record differs:\n got %s\nwant %s", got, body)
	}
}

func TestRunWireFormatLedger(t *testing.T) {
	t.Parallel()
	e, err := decodeLedger("s3://acme/k", []byte(oldLedger))
	if err != nil {
		t.Fatal(err)
	}
	if e.Run != wantRun || e.PR != 7 || e.Previous != "89abcdef0123456789abcdef0123456789abcdef" {
		t.Fatalf("decoded %+v", e)
	}
	got, err := encodeLedger(e)
	if err != nil || string(got) != oldLedger {
		t.Fatalf("re-encoded ledger differs (%v):\n got %s\nwant %s", err, got, oldLedger)
	}
}

func TestRunWireFormatWaiters(t *testing.T) {
	t.Parallel()
	ws, err := parseWaiters([]byte(oldWaiters))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Run != wantRun || ws[0].PR != 7 || ws[1].Run != (Run{}) || ws[1].RVN != "r3" {
		t.Fatalf("decoded %+v", ws)
	}
	if got := marshalWaiters(ws); string(got) != oldWaiters {
		t.Fatalf("re-encoded waiters differ:\n got %s\nwant %s", got, oldWaiters)
	}
	// Promoted fields read as they did.
	var w Waiter
	if err := json.Unmarshal([]byte(`{"run_id":"5"}`), &w); err != nil || w.RunID != "5" {
		t.Fatalf("run_id: %+v %v", w, err)
	}
}
