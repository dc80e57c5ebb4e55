package applylock

import (
	"testing"
	"time"
)

func TestDecideTakeover(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := lockWatch{}.observe("a", "v1", t0)
	cases := []struct {
		name      string
		w         lockWatch
		lease     time.Duration
		fallback  time.Duration
		completed bool
		at        time.Duration
		want      takeoverReason
	}{
		{"never observed", lockWatch{}, time.Minute, 0, true, time.Hour, keepWaiting},
		{"fresh holder", w, time.Minute, 0, false, 0, keepWaiting},
		{"just before the lease", w, time.Minute, 0, false, time.Minute - time.Nanosecond, keepWaiting},
		{"a whole lease unchanged", w, time.Minute, 0, false, time.Minute, holderLeaseLapse},
		{"run completed at once", w, time.Hour, 0, true, 0, holderRunDone},
		{"no lease in record: fallback", w, 0, 30 * time.Second, false, 30 * time.Second, holderLeaseLapse},
		{"no lease at all: wait", w, 0, 0, false, 1000 * time.Hour, keepWaiting},
		{"restarted by a heartbeat", w.observe("a", "v2", t0.Add(50*time.Second)), time.Minute, 0, false, 70 * time.Second, keepWaiting},
		{"restarted by a new holder", w.observe("b", "v1", t0.Add(50*time.Second)), time.Minute, 0, false, 110 * time.Second, holderLeaseLapse},
		{"same pair keeps its start", w.observe("a", "v1", t0.Add(50*time.Second)), time.Minute, 0, false, time.Minute, holderLeaseLapse},
	}
	for _, c := range cases {
		if got := decideTakeover(c.w, c.lease, c.fallback, c.completed, t0.Add(c.at)); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestApplyLockRecordEncoding(t *testing.T) {
	t.Parallel()
	r := ApplyLockRecord{
		LockInfo: LockInfo{ID: "id-1", Operation: "prstate-apply", Who: "runner@host", Version: "prstate", Created: time.Date(2026, 11, 23, 1, 2, 3, 4, time.UTC), Path: "app/terraform.tfstate"},
		Holder:   Holder{Repository: "acme/infra", RunID: "9001", RunAttempt: "1", RunURL: "https://github.com/acme/infra/actions/runs/9001", SHA: "abc", PR: 7, RVN: "r1", Lease: "5m0s"},
	}
	b := r.Marshal()
	li, err := ParseLockInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(li.Marshal()) != string(b) {
		t.Fatalf("not Terraform's encoding: %s vs %s", li.Marshal(), b)
	}
	back, err := ParseApplyLockRecord(b)
	if err != nil || back.Holder.RunID != "9001" || back.Holder.LeaseDuration() != 5*time.Minute || back.ID != "id-1" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	tf, err := ParseApplyLockRecord([]byte(`{"ID":"x","Operation":"OperationTypeApply","Info":"","Who":"a@b","Version":"1.11.0","Created":"2026-01-01T00:00:00Z","Path":"b/k"}`))
	if err != nil || tf.ID != "x" || tf.Holder.RunID != "" {
		t.Fatalf("terraform record: %+v, %v", tf, err)
	}
}

func TestEarlierAttempt(t *testing.T) {
	t.Parallel()
	ours := Holder{Repository: "acme/infra", RunID: "7", RunAttempt: "2"}
	cases := []struct {
		holder Holder
		want   bool
	}{
		{Holder{Repository: "acme/infra", RunID: "7", RunAttempt: "1"}, true},
		{Holder{Repository: "acme/infra", RunID: "7", RunAttempt: "2"}, false}, // another job of our attempt
		{Holder{Repository: "acme/infra", RunID: "7", RunAttempt: "3"}, false},
		{Holder{Repository: "acme/infra", RunID: "8", RunAttempt: "1"}, false},
		{Holder{Repository: "acme/other", RunID: "7", RunAttempt: "1"}, false},
		{Holder{RunAttempt: "1"}, false},
		{Holder{Repository: "acme/infra", RunID: "7", RunAttempt: "x"}, false},
	}
	for _, c := range cases {
		if got := earlierAttempt(c.holder, ours); got != c.want {
			t.Errorf("%+v: got %v, want %v", c.holder, got, c.want)
		}
	}
	if earlierAttempt(Holder{Repository: "acme/infra", RunID: "7", RunAttempt: "1"}, Holder{}) {
		t.Error("outside CI nothing is an earlier attempt")
	}
}

// FuzzDecideTakeover: whatever the inputs, a live holder (run not
// completed) is never taken over before a whole lease on our clock.
func FuzzDecideTakeover(f *testing.F) {
	f.Add(int64(time.Minute), int64(0), int64(time.Second), false)
	f.Add(int64(0), int64(time.Minute), int64(time.Hour), false)
	f.Add(int64(time.Second), int64(time.Second), int64(time.Second), true)
	f.Fuzz(func(t *testing.T, lease, fallback, elapsed int64, completed bool) {
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		w := lockWatch{}.observe("a", "v", t0)
		got := decideTakeover(w, time.Duration(lease), time.Duration(fallback), completed, t0.Add(time.Duration(elapsed)))
		eff := time.Duration(lease)
		if eff <= 0 {
			eff = time.Duration(fallback)
		}
		switch {
		case completed && got != holderRunDone:
			t.Fatalf("completed run not taken over: %v", got)
		case !completed && got == holderLeaseLapse && (eff <= 0 || time.Duration(elapsed) < eff):
			t.Fatalf("taken over after %v with lease %v", time.Duration(elapsed), eff)
		case !completed && got == keepWaiting && eff > 0 && time.Duration(elapsed) >= eff:
			t.Fatalf("not taken over after %v with lease %v", time.Duration(elapsed), eff)
		}
	})
}
