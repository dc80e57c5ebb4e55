package applylock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Keepers holds the locks of several stacks as one (run over several
// stacks): lost once any of them is lost, killed by the earliest kill
// time.
type Keepers struct {
	ks   []*Keeper
	lost chan struct{}
	done chan struct{}
	once sync.Once
	stop sync.Once
	wg   sync.WaitGroup
}

// KeepAll watches ks, the Keepers of the locks one job holds, in lock
// order.
func KeepAll(ks ...*Keeper) *Keepers {
	k := &Keepers{ks: ks, lost: make(chan struct{}), done: make(chan struct{})}
	for _, kk := range ks {
		k.wg.Add(1)
		go func(lost <-chan struct{}) {
			defer k.wg.Done()
			select {
			case <-lost:
				k.once.Do(func() { close(k.lost) })
			case <-k.done:
			}
		}(kk.Lost())
	}
	return k
}

// ID is the lock ID the stacks share.
func (k *Keepers) ID() string { return k.ks[0].ID() }

// Lost is closed once any lock is lost.
func (k *Keepers) Lost() <-chan struct{} { return k.lost }

// Err is why the first lost lock was lost (of those lost, in lock order).
func (k *Keepers) Err() error {
	for _, kk := range k.ks {
		if err := kk.Err(); err != nil {
			return err
		}
	}
	return nil
}

// KillBy is the earliest kill time of the locks: the command must be gone
// before any waiter of any of them can take over.
func (k *Keepers) KillBy() time.Time {
	t := k.ks[0].KillBy()
	for _, kk := range k.ks[1:] {
		if kt := kk.KillBy(); kt.Before(t) {
			t = kt
		}
	}
	return t
}

// StopBy is the earliest fence deadline of the locks: the guardian starts
// stopping the command then, should we not.
func (k *Keepers) StopBy() time.Time {
	t := k.ks[0].StopBy()
	for _, kk := range k.ks[1:] {
		if st := kk.StopBy(); st.Before(t) {
			t = st
		}
	}
	return t
}

// Lease is the shortest lease of the locks: it times the graceful stop.
func (k *Keepers) Lease() time.Duration {
	l := k.ks[0].Lease()
	for _, kk := range k.ks[1:] {
		l = min(l, kk.Lease())
	}
	return l
}

// Check checks every lock once more, in lock order.
func (k *Keepers) Check(ctx context.Context) error {
	for _, kk := range k.ks {
		if err := kk.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stop ends every lock's heartbeats, in reverse lock order.
func (k *Keepers) Stop() {
	k.stop.Do(func() { close(k.done) })
	for _, kk := range slices.Backward(k.ks) {
		kk.Stop()
	}
	k.wg.Wait()
}
