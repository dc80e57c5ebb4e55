package cli

import (
	"github.com/prstate/prstate/pipeline/usage"
)

// ApplyEventGuard refuses the apply lock's commands (lock, run, unlock)
// on a pull request event: pull_request, pull_request_target, merge_group,
// a GitLab merge request pipeline, or --pr. Their commit is not the
// default branch's, and a ledger it wrote would make the next merge's
// apply fail as diverged. It loads after EventOptions, before anything is
// opened, so nothing is written.
type ApplyEventGuard struct{}

func (*ApplyEventGuard) addFlags(*settingSet) {}

func (*ApplyEventGuard) load(l *loader) error {
	ev := l.cfg.Event
	if !ev.IsPullRequest() {
		return nil
	}
	what := ev.Name + " event"
	if ev.Name == "local" || ev.Name == "" {
		what = "--pr"
	}
	return usage.Errorf("the apply lock is for the default branch; PR plans use their own key: refusing to touch it on a %s (pull request #%d)", what, ev.PR)
}
