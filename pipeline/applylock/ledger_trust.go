package applylock

import (
	"context"
	"fmt"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/escape"
)

// UntrustedLedgerError is returned when the ledger says a newer commit started its apply,
// but that commit is not on the default branch. Anyone who can write the
// ledger (a pull request job with too wide a role) could have named its
// own head commit to make the next merge skip its apply; so the apply
// fails instead of skipping.
type UntrustedLedgerError struct {
	Where  string      // the ledger
	Entry  LedgerEntry // what it says
	Commit string      // this run's commit
	Branch string      // the default branch; "" when the event does not name it
	Links  ci.Links
	Err    error // why containment could not be checked; nil when it was: not contained
}

func (e *UntrustedLedgerError) Error() string {
	by := "an unknown run"
	if e.Entry.RunURL != "" {
		by = "run " + e.Links.RunText(e.Entry.RunURL)
	}
	if e.Entry.Repository != "" {
		by += " of " + escape.Log(e.Entry.Repository)
	}
	why := "is not on the default branch " + escape.Log(e.Branch)
	switch {
	case e.Branch == "":
		why = "could not be checked: the event does not name the default branch"
	case e.Err != nil:
		why = "could not be checked against the default branch " + escape.Log(e.Branch) + ": " + escape.Log(e.Err.Error())
	}
	return fmt.Sprintf("refusing to skip commit %s as superseded: the apply ledger %s names commit %s (written by %s), which %s; "+
		"a record a pull request job could have written is not trusted. Check who wrote it (and that PR jobs cannot write it: prstate iam), delete it if it is forged, and re-run",
		ci.ShortSHA(e.Commit), e.Where, ledgerSHAText(e.Entry.SHA), by, why)
}

// ledgerSHAText shows a ledger's commit (validated when read).
func ledgerSHAText(sha string) string { return ci.ShortSHA(escape.SHA(sha)) }

// trustLedger checks that the ledger's commit, newer than ev's, is on the
// default branch before ev's commit is skipped as superseded by it.
func trustLedger(ctx context.Context, cmp *Commits, where string, last LedgerEntry, ev ci.Event) error {
	e := &UntrustedLedgerError{Where: where, Entry: last, Commit: ev.SHA, Branch: ev.DefaultBranch, Links: ev.Links()}
	if ev.DefaultBranch == "" {
		return e
	}
	ok, err := cmp.OnBranch(ctx, ev.DefaultBranch, last.SHA)
	if err != nil {
		e.Err = err
		return e
	}
	if !ok {
		return e
	}
	return nil
}
