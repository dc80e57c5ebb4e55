package applylock

import "github.com/prstate/prstate/pipeline/ci"

// Run is the CI run a record names: the holder of an apply lock, an
// announced waiter, the last apply in the ledger. It is embedded in each,
// so its fields sit flat in their JSON where they always were; the commit
// (SHA) and pull request (PR) stay beside it, each in its record's place.
type Run struct {
	Repository string `json:"repository,omitempty"`
	RunID      string `json:"run_id,omitempty"`
	RunAttempt string `json:"run_attempt,omitempty"`
	RunURL     string `json:"run_url,omitempty"`
}

// RunFromEvent is the run of ev.
func RunFromEvent(ev ci.Event) Run {
	return Run{Repository: ev.Repository, RunID: ev.RunID, RunAttempt: ev.RunAttempt, RunURL: ev.RunURL}
}
