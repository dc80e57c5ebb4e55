package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

// Several stacks in one job (working-directory a list or a glob): lock,
// run and unlock take every stack's apply lock, in one fixed order (sorted
// by bucket, then production key), all or nothing, and release them in
// reverse. Every job sorts the same way, so two jobs locking overlapping
// sets never wait on each other in a cycle. The locks of one job share one
// lock ID, so one unlock (the post step) releases them all.

// forStack is inv narrowed to one stack: every per-stack step (the lock
// store, the ledger, the waiters record, the reports) reads cfg.Main().
// Under lock-backend auto each stack's apply lock lives where that
// stack's own auto would put it (DynamoDB when its backend has a table):
// the same place a job of that stack alone locks, so the two exclude
// each other.
//
// The groups it narrows are copies: the parent invocation keeps its own.
func (inv *invocation) forStack(st statekey.Stack) *invocation {
	c := *inv
	c.cfg.StackOptions = clone(c.cfg.StackOptions)
	c.cfg.LockStoreOptions = clone(c.cfg.LockStoreOptions)
	c.cfg.LockTimeoutOptions = clone(c.cfg.LockTimeoutOptions) // takeApplyLocks sets each stack's share
	c.cfg.Stacks = []statekey.Stack{st}
	if c.cfg.LockStoreOptions == nil {
		return &c
	}
	if lb := c.cfg.LockStoreOptions.lockBackend.Text(); lb == "" || lb == "auto" {
		c.cfg.LockBackend = "s3"
		if st.Backend.DynamoDBTable != "" {
			c.cfg.LockBackend = "dynamodb"
		}
	}
	return &c
}

// clone is a copy of the group *g (nil when the command did not declare it).
func clone[T any](g *T) *T {
	if g == nil {
		return nil
	}
	c := *g
	return &c
}

// lockOrder returns the stacks in the order their apply locks are taken:
// by bucket, then production key. Two directories of one production state
// are refused: one job would take that lock twice.
func lockOrder(cwd string, stacks []statekey.Stack) ([]statekey.Stack, error) {
	out := slices.Clone(stacks)
	slices.SortStableFunc(out, func(a, b statekey.Stack) int {
		return cmp.Or(strings.Compare(a.Backend.Bucket, b.Backend.Bucket), strings.Compare(a.Keys.Production, b.Keys.Production))
	})
	for i := 1; i < len(out); i++ {
		a, b := out[i-1], out[i]
		if a.Backend.Bucket == b.Backend.Bucket && a.Keys.Production == b.Keys.Production {
			return nil, usage.Errorf("working directories %s and %s share the production state s3://%s/%s: name one of them", displayDir(cwd, a.Dir), displayDir(cwd, b.Dir), a.Backend.Bucket, a.Keys.Production)
		}
	}
	return out, nil
}

// heldLock is the apply lock of one stack, held by this job.
type heldLock struct {
	inv    *invocation // narrowed to the stack
	l      *applylock.ApplyLock
	keeper *applylock.Keeper // nil without heartbeats
	v      applylock.Verdict
}

// takeApplyLocks takes the apply lock of every stack in lockOrder, all or
// nothing (applylock.TakeAll): nil, nil when the commit is superseded on
// one of them. lock-timeout bounds the whole wait, not each lock's.
func (inv *invocation) takeApplyLocks(ctx context.Context, command string, lease time.Duration, heartbeats bool) ([]heldLock, error) {
	stacks, err := lockOrder(inv.app.Cwd, inv.cfg.Stacks)
	if err != nil {
		return nil, err
	}
	inv.lockID = applylock.NewLockID()
	subs := make([]*invocation, len(stacks))
	steps := make([]applylock.Step, len(stacks))
	for i, st := range stacks {
		sub := inv.forStack(st)
		subs[i] = sub
		steps[i] = applylock.Step{Name: st.Keys.Production, Take: func(ctx context.Context, timeout time.Duration) (applylock.Taken, error) {
			if timeout > 0 {
				sub.cfg.LockTimeout = timeout
			}
			return sub.takeApplyLock(ctx, command, lease, heartbeats)
		}}
	}
	taken, err := applylock.TakeAll(ctx, inv.app.Clock, inv.cfg.LockTimeout, steps, inv.logf)
	if err != nil || taken == nil {
		return nil, err
	}
	held := make([]heldLock, len(taken))
	for i, t := range taken {
		held[i] = heldLock{inv: subs[i], l: t.Lock, keeper: t.Keeper, v: t.Verdict}
	}
	return held, nil
}

// wheres names the locks held, in the order taken.
func wheres(held []heldLock) []string {
	out := make([]string, len(held))
	for i, h := range held {
		out[i] = h.l.Where()
	}
	return out
}

// runLockStacks is lock over several stacks.
func runLockStacks(ctx context.Context, inv *invocation) error {
	held, err := inv.takeApplyLocks(ctx, "lock", lockLease, false)
	if err != nil {
		return err
	}
	if held == nil {
		if inv.cfg.JSON {
			return inv.printJSON(map[string]any{"superseded": true})
		}
		return nil
	}
	id := held[0].l.ID()
	inv.lockOutputs(held[0].l)
	for _, h := range held {
		h.inv.reportApply(ctx, "lock", h.inv.lockedReport(h.v, h.l), fmt.Sprintf("Holding the apply lock `%s` (lock ID `%s`, shared by the %d stacks of this job); the post step releases them all.", h.l.Where(), id, len(held)))
	}
	inv.logf("holding %d apply locks, taken in this order: %s (lock ID %s)", len(held), strings.Join(wheres(held), ", "), id)
	if inv.cfg.JSON {
		return inv.printJSON(map[string]any{"lock_id": id, "locks": wheres(held), "superseded": false})
	}
	fmt.Fprintln(inv.stdout(), id)
	return nil
}

// stackUnlock is what unlock did to one stack's lock.
type stackUnlock struct {
	Lock     string `json:"lock"`
	Released bool   `json:"released"`
	HeldBy   string `json:"held_by,omitempty"`
}

// runUnlockStacks is unlock over several stacks: each lock our ID holds
// is released, in reverse lock order; one someone else holds is left
// alone and reported lost (exit 1), the others are released all the same.
func runUnlockStacks(ctx context.Context, inv *invocation, id string) error {
	stacks, err := lockOrder(inv.app.Cwd, inv.cfg.Stacks)
	if err != nil {
		return err
	}
	var (
		results []stackUnlock
		rows    []report.SummaryRow
		errs    []error
	)
	for _, st := range slices.Backward(stacks) {
		sub := inv.forStack(st)
		store, _, err := sub.applyLockStore(ctx)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		res, err := applylock.ReleaseByID(context.WithoutCancel(ctx), store, id, inv.app.Clock)
		r := stackUnlock{Lock: store.Where(), Released: res.Released, HeldBy: res.Holder}
		result := "not held: nothing to release"
		switch {
		case errors.Is(err, applylock.ErrLockLost):
			errs = append(errs, fmt.Errorf("lost the apply lock %s while our job held it, another apply may have overlapped: it is held by %s, not by our lock ID %s (left alone)", store.Where(), res.Holder, id))
			result = "lost: held by " + escape.MarkdownText(res.Holder) + ", left alone; may have overlapped"
		case err != nil:
			errs = append(errs, err)
			result = "failed: " + escape.MarkdownText(err.Error())
		case res.Released:
			inv.logf("released the apply lock %s (lock ID %s)", store.Where(), id)
			result = "released lock `" + id + "`"
		default:
			inv.logf("the apply lock %s is not held: nothing to release", store.Where())
		}
		results = append(results, r)
		rows = append(rows, report.SummaryRow{Stack: sub.stackLabel(st), Key: st.Keys.Production, Result: result, Commit: inv.ev.SHA, RunURL: inv.ev.RunURL})
	}
	inv.rep.AddStepSummary(report.RenderSummary(report.Summary{Command: "unlock", Links: inv.ev.Links(), Rows: rows}))
	if inv.cfg.JSON {
		if err := inv.printJSON(map[string]any{"lock_id": id, "locks": results}); err != nil {
			return err
		}
		return errors.Join(errs...)
	}
	for _, r := range results {
		switch {
		case r.Released:
			fmt.Fprintln(inv.stdout(), "released", id, r.Lock)
		case r.HeldBy != "":
			fmt.Fprintln(inv.stdout(), "lost: held by someone else:", r.HeldBy, r.Lock)
		default:
			fmt.Fprintln(inv.stdout(), "not held", id, r.Lock)
		}
	}
	return errors.Join(errs...)
}

// oneStackError refuses several stacks for a command that works on one,
// naming them all.
func oneStackError(cwd, spec string, dirs []string) error {
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = displayDir(cwd, d)
	}
	return usage.Errorf("this command works on one stack, but working-directory %q names %d: %s (run it once per stack, e.g. in a matrix)", spec, len(dirs), strings.Join(names, ", "))
}
