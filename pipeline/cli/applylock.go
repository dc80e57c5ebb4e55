package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/github"
	"github.com/prstate/prstate/pipeline/report"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

// applyLockOptions are the option groups of the commands that take the
// apply lock (lock, run).
func applyLockOptions(c *Config) []optionGroup {
	return []optionGroup{c.stack(needBucket | needKey), c.prEvent(), &ApplyEventGuard{}, use(&c.LockStoreOptions), use(&c.LockTimeoutOptions), use(&c.LeaseOptions), use(&c.SupersedeOptions), use(&c.GitHubOptions), use(&c.CommentOptions), use(&c.OutputOptions)}
}

// githubTimeout bounds one GitHub API call: a slow API must not stall a
// lock wait (liveness is only ever an extra reason to take over).
const githubTimeout = 10 * time.Second

// applyLockStore opens the apply lock of the production state: the
// DynamoDB item when the lock backend is dynamodb, else the S3 object.
func (inv *invocation) applyLockStore(ctx context.Context) (applylock.LockStore, Store, error) {
	st := inv.cfg.Main()
	store, err := inv.open(ctx, st)
	if err != nil {
		return nil, Store{}, err
	}
	if inv.cfg.LockBackend == "dynamodb" {
		if store.Table == nil {
			return nil, Store{}, &usage.Error{Msg: "lock-backend dynamodb needs a dynamodb-table"}
		}
		return applylock.NewDynamoDBLockStore(store.Table, statekey.ApplyLockItemID(st.Backend.Bucket, st.Keys.Production)), store, nil
	}
	return applylock.NewS3LockStore(store.Bucket, statekey.ApplyLockKey(st.Keys.Production)), store, nil
}

// runChecker returns the GitHub client that tells whether a holder's run
// completed, or nil without a token (the lease alone decides then).
func (inv *invocation) runChecker() (applylock.RunChecker, error) {
	if inv.cfg.GitHubToken == "" {
		return nil, nil
	}
	inv.rep.Mask(inv.cfg.GitHubToken)
	c, err := inv.githubClient(githubTimeout)
	if err != nil {
		return nil, err
	}
	return applylock.OwnRepository(c, inv.ev.Repository), nil
}

// githubClient is this run's GitHub API client (GITHUB_API_URL,
// github-token), every call bounded by timeout (0: unbounded).
func (inv *invocation) githubClient(timeout time.Duration) (*github.Client, error) {
	c, err := github.New(inv.cfg.GitHubToken, inv.app.Env("GITHUB_API_URL"), &http.Client{Timeout: timeout})
	if err != nil {
		return nil, &usage.Error{Msg: err.Error()}
	}
	return c, nil
}

// takeApplyLock binds the settings of the main stack and takes its apply
// lock (applylock.Take), with lease defaultLease unless --lease is set,
// renewed by heartbeats or not. A superseded commit is reported here; the
// lock returned is then not held (Taken.Skipped).
func (inv *invocation) takeApplyLock(ctx context.Context, command string, defaultLease time.Duration, heartbeats bool) (applylock.Taken, error) {
	lock, st, err := inv.applyLockStore(ctx)
	if err != nil {
		return applylock.Taken{}, err
	}
	runs, err := inv.runChecker()
	if err != nil {
		return applylock.Taken{}, err
	}
	d := inv.applyDeps(st)
	d.Lock, d.Runs = lock, runs
	if inv.cfg.LockBackend == "dynamodb" {
		d.State = st.Bucket
	}
	if inv.cfg.Coalesce {
		d.Waiters = applylock.NewWaitersStore(st.Bucket, st.Table, inv.cfg.LockBackend, inv.cfg.Main().Keys.Production)
	}
	lease := inv.cfg.Lease
	if lease <= 0 {
		lease = defaultLease
	}
	t, err := applylock.Take(ctx, d, applylock.Options{
		Event:         inv.ev,
		ID:            inv.lockID,
		Lease:         lease,
		Heartbeats:    heartbeats,
		MaxLease:      inv.cfg.MaxLease,
		ClockSkew:     inv.cfg.ClockSkew,
		Timeout:       inv.cfg.LockTimeout,
		Poll:          inv.cfg.LockPoll,
		Who:           inv.who(),
		Path:          inv.cfg.Main().Keys.Production,
		AllowDiverged: inv.cfg.AllowDiverged,
	})
	switch {
	case err != nil:
		inv.reportLockTimeout(command, err)
	case t.Skipped && t.Held:
		inv.reportApply(ctx, command, inv.lockedReport(t.Verdict, t.Lock))
	case t.Skipped:
		// A newer commit containing ours started its apply while we
		// waited: reported as a skip under the lock is.
		r := inv.applyReport(t.Verdict)
		r.Lock = report.LockSummary{Waited: t.Lock.Wait().Waited}
		inv.reportApply(ctx, command, r)
	}
	return t, err
}

// applyDeps are the main stack's ledger and comparer, with this command's
// clock and reports: what the check under the apply lock works with.
func (inv *invocation) applyDeps(st Store) applylock.Deps {
	return applylock.Deps{
		Ledger:  applylock.NewLedger(st.Bucket, st.Table, inv.cfg.LockBackend, inv.cfg.Main().Keys.Production),
		Commits: inv.comparer(inv.cfg.Main()),
		Clock:   inv.app.Clock,
		Report:  inv.rep,
		Logf:    inv.logf,
	}
}

// who is Terraform's LockInfo.Who: user@host.
func (inv *invocation) who() string {
	host, _ := os.Hostname()
	user := inv.app.Env("USER")
	if user == "" {
		user = inv.app.Env("GITHUB_ACTOR")
	}
	if user == "" {
		user = "prstate"
	}
	return fmt.Sprintf("%s@%s", user, host)
}

// lockOutputs tells the CI system that we hold the lock: output lock-id,
// and the saved state the post step releases.
func (inv *invocation) lockOutputs(l *applylock.ApplyLock) {
	inv.rep.SetOutput("lock-id", l.ID())
	inv.rep.SaveState("lock_id", l.ID())
}
