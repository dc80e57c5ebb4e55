package applylock

import (
	"testing"
	"time"
)

func TestDecideTakeover(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := lockWatch{}.observe("a", "v1", t0)
	lease := func(d time.Duration) Holder { return Holder{Lease: d.String()} }
	// Lease 5m: its command is surely gone 250 s after its last confirmed
	// write (killAfter), plus a renewal's timeout (30 s): 280 s.
	beating := Holder{Lease: "5m0s", Heartbeat: "1m40s"}
	quiet := 280 * time.Second
	yes := func() bool { return true }
	cases := []struct {
		name string
		in   takeoverInput
		at   time.Duration
		want takeoverReason
	}{
		{"never observed", takeoverInput{holder: lease(time.Minute), runCompleted: yes}, time.Hour, keepWaiting},
		{"fresh holder", takeoverInput{watch: w, holder: lease(time.Minute)}, 0, keepWaiting},
		{"just before the lease", takeoverInput{watch: w, holder: lease(time.Minute)}, time.Minute - time.Nanosecond, keepWaiting},
		{"a whole lease unchanged", takeoverInput{watch: w, holder: lease(time.Minute)}, time.Minute, holderLeaseLapse},
		{"run completed, no heartbeats: at once", takeoverInput{watch: w, holder: lease(time.Hour), runCompleted: yes}, 0, holderRunDone},
		{"run completed, two heartbeats missed: its command may still run", takeoverInput{watch: w, holder: beating, runCompleted: yes}, 2 * 100 * time.Second, keepWaiting},
		{"run completed, until its kill time and a renewal's timeout", takeoverInput{watch: w, holder: beating, runCompleted: yes}, quiet, keepWaiting},
		{"run completed, past its kill time", takeoverInput{watch: w, holder: beating, runCompleted: yes}, quiet + time.Nanosecond, holderRunDone},
		{"earlier attempt, heartbeats seen lately", takeoverInput{watch: w, holder: beating, earlierAttempt: true}, time.Minute, keepWaiting},
		{"earlier attempt, until its kill time", takeoverInput{watch: w, holder: beating, earlierAttempt: true}, quiet, keepWaiting},
		{"earlier attempt, past its kill time", takeoverInput{watch: w, holder: beating, earlierAttempt: true}, quiet + time.Nanosecond, holderOldAttempt},
		{"a short lease: run liveness never before the lease", takeoverInput{watch: w, holder: Holder{Lease: "3s", Heartbeat: "1s"}, runCompleted: yes}, 3*time.Second - time.Nanosecond, keepWaiting},
		{"heartbeats: the server's clock never decides", takeoverInput{watch: w, holder: beating, age: recordAge{d: 10 * time.Hour, ok: true}}, 0, keepWaiting},
		{"heartbeats: a whole lease on our clock", takeoverInput{watch: w, holder: beating, age: recordAge{d: 10 * time.Hour, ok: true}}, 5 * time.Minute, holderLeaseLapse},
		{"earlier attempt without heartbeats", takeoverInput{watch: w, holder: lease(6 * time.Hour), earlierAttempt: true}, 0, holderOldAttempt},
		{"no lease in record: fallback", takeoverInput{watch: w, fallback: 30 * time.Second}, 30 * time.Second, holderLeaseLapse},
		{"no lease at all: wait", takeoverInput{watch: w}, 1000 * time.Hour, keepWaiting},
		{"a forged 10-year lease is capped", takeoverInput{watch: w, holder: lease(87600 * time.Hour), maxLease: 8 * time.Hour}, 8 * time.Hour, holderLeaseLapse},
		{"under the cap the lease stands", takeoverInput{watch: w, holder: lease(6 * time.Hour), maxLease: 8 * time.Hour}, 6*time.Hour - time.Second, keepWaiting},
		{"record older than its lease by the server's clock", takeoverInput{watch: w, holder: lease(6 * time.Hour), age: recordAge{d: 6 * time.Hour, ok: true}}, 0, holderAged},
		{"record younger than its lease by the server's clock", takeoverInput{watch: w, holder: lease(6 * time.Hour), age: recordAge{d: 6*time.Hour - time.Second, ok: true}}, time.Minute, keepWaiting},
		{"server age unknown", takeoverInput{watch: w, holder: lease(6 * time.Hour), age: recordAge{d: 7 * time.Hour}}, time.Minute, keepWaiting},
		{"restarted by a heartbeat", takeoverInput{watch: w.observe("a", "v2", t0.Add(50*time.Second)), holder: lease(time.Minute)}, 70 * time.Second, keepWaiting},
		{"restarted by a new holder", takeoverInput{watch: w.observe("b", "v1", t0.Add(50*time.Second)), holder: lease(time.Minute)}, 110 * time.Second, holderLeaseLapse},
		{"same pair keeps its start", takeoverInput{watch: w.observe("a", "v1", t0.Add(50*time.Second)), holder: lease(time.Minute)}, time.Minute, holderLeaseLapse},
	}
	for _, c := range cases {
		c.in.now = t0.Add(c.at)
		if got := decideTakeover(c.in); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRecordAge: the store's own write time is trusted to its resolution;
// the holder's write time only with the skew margin taken off.
func TestRecordAge(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		obs   Observation
		wrote time.Time
		want  recordAge
	}{
		{"no server clock", Observation{Written: t0}, t0, recordAge{}},
		{"S3: LastModified against Date", Observation{Written: t0, ServerNow: t0.Add(time.Hour)}, t0.Add(time.Hour), recordAge{d: time.Hour - time.Second, ok: true}},
		{"DynamoDB: holder's clock against Date, less skew", Observation{ServerNow: t0.Add(time.Hour)}, t0, recordAge{d: time.Hour - time.Minute - time.Second, ok: true}},
		{"DynamoDB: holder's clock ahead", Observation{ServerNow: t0}, t0.Add(time.Hour), recordAge{d: -time.Hour - time.Minute - time.Second, ok: true}},
		{"nothing to compare", Observation{ServerNow: t0}, time.Time{}, recordAge{}},
	}
	for _, c := range cases {
		if got := observedAge(c.obs, c.wrote, time.Minute); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestApplyLockRecordEncoding(t *testing.T) {
	t.Parallel()
	r := Record{
		LockInfo: LockInfo{ID: "id-1", Operation: "prstate-apply", Who: "runner@host", Version: "prstate", Created: time.Date(2026, 11, 23, 1, 2, 3, 4, time.UTC), Path: "app/terraform.tfstate"},
		Holder:   Holder{Run: Run{Repository: "acme/infra", RunID: "9001", RunAttempt: "1", RunURL: "https://github.com/acme/infra/actions/runs/9001"}, SHA: "abc", PR: 7, RVN: "r1", Lease: "5m0s"},
	}
	b := r.Marshal()
	li, err := ParseLockInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(li.Marshal()) != string(b) {
		t.Fatalf("not Terraform's encoding: %s vs %s", li.Marshal(), b)
	}
	back, err := ParseRecord(b)
	if err != nil || back.Holder.RunID != "9001" || back.Holder.LeaseDuration() != 5*time.Minute || back.ID != "id-1" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	tf, err := ParseRecord([]byte(`{"ID":"x","Operation":"OperationTypeApply","Info":"","Who":"a@b","Version":"1.11.0","Created":"2026-01-01T00:00:00Z","Path":"b/k"}`))
	if err != nil || tf.ID != "x" || tf.Holder.RunID != "" {
		t.Fatalf("terraform record: %+v, %v", tf, err)
	}
}

func TestEarlierAttempt(t *testing.T) {
	t.Parallel()
	ours := Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "2"}}
	cases := []struct {
		holder Holder
		want   bool
	}{
		{Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "1"}}, true},
		{Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "2"}}, false}, // another job of our attempt
		{Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "3"}}, false},
		{Holder{Run: Run{Repository: "acme/infra", RunID: "8", RunAttempt: "1"}}, false},
		{Holder{Run: Run{Repository: "acme/other", RunID: "7", RunAttempt: "1"}}, false},
		{Holder{Run: Run{RunAttempt: "1"}}, false},
		{Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "x"}}, false},
	}
	for _, c := range cases {
		if got := earlierAttempt(c.holder, ours); got != c.want {
			t.Errorf("%+v: got %v, want %v", c.holder, got, c.want)
		}
	}
	if earlierAttempt(Holder{Run: Run{Repository: "acme/infra", RunID: "7", RunAttempt: "1"}}, Holder{}) {
		t.Error("outside CI nothing is an earlier attempt")
	}
}

// FuzzDecideTakeover: whatever the inputs, a live holder (run not
// completed, not an earlier attempt, record not older than the lease by
// the server's clock) is never taken over before min(lease, cap) on our
// clock; a holder that heartbeats never by run liveness before its kill
// time (plus a renewal's timeout), and never by the server's clock.
func FuzzDecideTakeover(f *testing.F) {
	f.Add(int64(time.Minute), int64(0), int64(0), int64(0), int64(time.Second), false)
	f.Add(int64(0), int64(time.Minute), int64(0), int64(time.Hour), int64(time.Hour), false)
	f.Add(int64(time.Second), int64(time.Second), int64(time.Second/3), int64(0), int64(time.Second), true)
	f.Add(int64(time.Minute), int64(0), int64(time.Second), int64(0), int64(time.Second), true)
	f.Fuzz(func(t *testing.T, lease, fallback, heartbeat, maxLease, elapsed int64, completed bool) {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		in := takeoverInput{
			watch:        lockWatch{}.observe("a", "v", t0),
			holder:       Holder{Lease: time.Duration(lease).String(), Heartbeat: time.Duration(heartbeat).String()},
			fallback:     time.Duration(fallback),
			maxLease:     time.Duration(maxLease),
			runCompleted: func() bool { return completed },
			age:          recordAge{d: time.Duration(elapsed) * 1000, ok: true}, // a slow holder's clock
			now:          t0.Add(time.Duration(elapsed)),
		}
		got := decideTakeover(in)
		eff := in.effectiveLease()
		el, hb := time.Duration(elapsed), in.holder.HeartbeatDuration()
		switch {
		case got == holderRunDone && (!completed || hb > 0 && el <= runQuiet(eff)):
			t.Fatalf("taken over as completed after %v (completed %v, heartbeat %v, lease %v)", el, completed, hb, eff)
		case got == holderAged && hb > 0:
			t.Fatalf("a heartbeating holder taken over by the server's clock after %v", el)
		case got == holderLeaseLapse && (eff <= 0 || el < eff):
			t.Fatalf("taken over after %v with lease %v", el, eff)
		case maxLease > 0 && eff > time.Duration(maxLease):
			t.Fatalf("lease %v above the cap %v", eff, time.Duration(maxLease))
		case got == keepWaiting && eff > 0 && el >= eff:
			t.Fatalf("not taken over after %v with lease %v", el, eff)
		}
	})
}
