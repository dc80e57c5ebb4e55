package cli

import (
	"context"
	"errors"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/report"
)

// waitQueue is this run's place among the waiters of the apply lock
// (coalesce: true, the default), in the lock's own store, with the
// ledger's comparer; nil with coalesce: false or without a commit SHA.
func (inv *invocation) waitQueue(st Store) *applylock.Queue {
	if !inv.cfg.Coalesce {
		return nil
	}
	stack := inv.cfg.Main()
	return applylock.NewQueue(applylock.QueueOptions{
		Store:   applylock.NewWaitersStore(st.Bucket, st.Table, inv.cfg.LockBackend, stack.Keys.Production),
		Ledger:  applylock.NewLedger(st.Bucket, st.Table, inv.cfg.LockBackend, stack.Keys.Production),
		Commits: inv.stackComparer(),
		Event:   inv.ev,
		Clock:   inv.app.Clock,
		Logf:    inv.logf,
		Notice:  inv.rep.Notice,
	})
}

// skippedWhileWaiting handles an Acquire that ended because a newer
// commit containing ours started its apply while we waited: superseded,
// exit 0, reported as a skip under the lock is.
func (inv *invocation) skippedWhileWaiting(ctx context.Context, command string, l *applylock.ApplyLock, err error) (applylock.Verdict, bool) {
	var se *applylock.SupersededError
	if !errors.As(err, &se) {
		return applylock.Verdict{}, false
	}
	inv.rep.SetOutput("superseded", "true")
	inv.rep.Warning(se.Verdict.SupersededMessage())
	r := inv.applyReport(se.Verdict)
	r.Lock = report.LockSummary{Waited: l.Wait().Waited}
	inv.reportApply(ctx, command, r)
	return se.Verdict, true
}

// stackComparer is the main stack's comparer for this command: the
// waiters' checks and the supersede check under the lock share its
// answers (one compare API call per pair of commits).
func (inv *invocation) stackComparer() *applylock.Commits {
	if inv.cmp == nil {
		inv.cmp = inv.comparer(inv.cfg.Main())
	}
	return inv.cmp
}
