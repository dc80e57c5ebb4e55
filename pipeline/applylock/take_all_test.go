package applylock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// allWorld is three stacks' apply locks on memstore and the order in
// which TakeAll asked for them.
type allWorld struct {
	t      *testing.T
	clk    *clocktest.Fake
	stores []LockStore
	asked  []string        // step names, in the order taken
	shares []time.Duration // each step's share of the timeout
}

func newAllWorld(t *testing.T) *allWorld {
	w := &allWorld{t: t, clk: clocktest.New()}
	for i := range 3 {
		w.stores = append(w.stores, NewS3LockStore(memstore.NewBucket("acme"), fmt.Sprintf("s%d.prstate-apply.lock", i)))
	}
	return w
}

// steps take each stack's lock; outcome says what step i does instead
// ("": take it; "superseded"; "fail"), and each step spends spend of
// the fake clock.
func (w *allWorld) steps(outcome map[int]string, spend time.Duration) []Step {
	var out []Step
	for i, st := range w.stores {
		name := fmt.Sprintf("s%d", i)
		out = append(out, Step{Name: name, Take: func(ctx context.Context, timeout time.Duration) (Taken, error) {
			w.asked, w.shares = append(w.asked, name), append(w.shares, timeout)
			w.clk.Advance(spend)
			switch outcome[i] {
			case "superseded":
				return Taken{Skipped: true}, nil
			case "fail":
				return Taken{}, errors.New("store unreachable")
			}
			l := NewApplyLock(st, Holder{}, LockOptions{Lease: time.Hour, Clock: w.clk})
			if err := l.Acquire(ctx); err != nil {
				return Taken{}, err
			}
			return Taken{Lock: l, Held: true}, nil
		}})
	}
	return out
}

// heldStores lists which stores hold a lock now.
func (w *allWorld) heldStores() []int {
	var out []int
	for i, st := range w.stores {
		if _, err := st.Read(w.t.Context()); err == nil {
			out = append(out, i)
		}
	}
	return out
}

// TestTakeAllTakesEveryLockInOrder: every lock, in the order given; the
// whole wait is bounded once, each step getting what is left of it; and
// ReleaseAll gives every lock back.
func TestTakeAllTakesEveryLockInOrder(t *testing.T) {
	t.Parallel()
	w := newAllWorld(t)
	held, err := TakeAll(t.Context(), w.clk, 10*time.Minute, w.steps(nil, 3*time.Minute), t.Logf)
	if err != nil || len(held) != 3 {
		t.Fatalf("TakeAll: %d held, %v", len(held), err)
	}
	if want := []string{"s0", "s1", "s2"}; !slices.Equal(w.asked, want) {
		t.Errorf("asked %v, want %v", w.asked, want)
	}
	if want := []time.Duration{10 * time.Minute, 7 * time.Minute, 4 * time.Minute}; !slices.Equal(w.shares, want) {
		t.Errorf("timeout shares %v, want %v (what is left of one bound)", w.shares, want)
	}
	if got := w.heldStores(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("held %v", got)
	}
	if err := ReleaseAll(t.Context(), held); err != nil {
		t.Fatal(err)
	}
	if got := w.heldStores(); len(got) != 0 {
		t.Errorf("still held after ReleaseAll: %v", got)
	}
}

// TestTakeAllIsAllOrNothing: superseded or failing on the second stack,
// the first lock is given back and the third never asked for.
func TestTakeAllIsAllOrNothing(t *testing.T) {
	t.Parallel()
	for _, outcome := range []string{"superseded", "fail"} {
		t.Run(outcome, func(t *testing.T) {
			t.Parallel()
			w := newAllWorld(t)
			var said []string
			held, err := TakeAll(t.Context(), w.clk, 0, w.steps(map[int]string{1: outcome}, time.Second), func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) })
			if held != nil || (outcome == "superseded") != (err == nil) {
				t.Fatalf("TakeAll: held %d, %v", len(held), err)
			}
			if want := []string{"s0", "s1"}; !slices.Equal(w.asked, want) {
				t.Errorf("asked %v, want %v", w.asked, want)
			}
			if !slices.Equal(w.shares, []time.Duration{0, 0}) {
				t.Errorf("shares %v without a timeout, want none", w.shares)
			}
			if got := w.heldStores(); len(got) != 0 {
				t.Errorf("a lock is left held: %v", got)
			}
			if len(said) != 1 || !containsAll(said[0], "s1", "giving back the 1") {
				t.Errorf("log %q", said)
			}
		})
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
