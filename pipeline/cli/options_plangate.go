package cli

import (
	"path/filepath"
	"strings"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

// PlanJSONOptions name the output of `terraform show -json <planfile>`:
// plan records it as the reviewed plan, verify-plan compares with it.
type PlanJSONOptions struct {
	PlanJSON string // as given: relative to the working directory, or absolute
	planJSON StringValue
}

func (o *PlanJSONOptions) addFlags(s *settingSet) { o.planJSON = s.String(planJSONSetting) }
func (o *PlanJSONOptions) load(*loader) error {
	o.PlanJSON = strings.TrimSpace(o.planJSON.Text())
	return nil
}

// planJSONPath is the plan JSON's path for the stack in dir.
func (o PlanJSONOptions) planJSONPath(dir string) string {
	if filepath.IsAbs(o.PlanJSON) {
		return o.PlanJSON
	}
	return filepath.Join(dir, o.PlanJSON)
}

// VerifyPlanOptions say which pull requests an apply brings (--pr N[,M] by
// hand; else found from the commits since the ledger's), and what a
// mismatch does. It reads the event itself: on verify-plan, --pr names
// the pull requests to compare with, it does not make the run a pull
// request's.
type VerifyPlanOptions struct {
	PRs          []int
	OnPlanChange string // warn | fail
	prs          StringValue
	onPlanChange StringValue
}

func (o *VerifyPlanOptions) addFlags(s *settingSet) {
	o.prs = s.String(prSetting)
	o.onPlanChange = s.String(onPlanChangeSetting)
}

func (o *VerifyPlanOptions) load(l *loader) error {
	switch o.OnPlanChange = strings.TrimSpace(o.onPlanChange.Text()); o.OnPlanChange {
	case "":
		o.OnPlanChange = "warn"
	case "warn", "fail":
	default:
		return usage.Errorf("invalid on-plan-change %q: want warn or fail", o.OnPlanChange)
	}
	seen := map[int]bool{}
	for _, f := range strings.FieldsFunc(o.prs.Text(), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		pr, err := ci.ParsePR(f)
		if err != nil {
			return err
		}
		if !seen[pr] {
			seen[pr] = true
			o.PRs = append(o.PRs, pr)
		}
	}
	ev, err := l.event()
	if err != nil {
		return err
	}
	// The event without EventOptions' --pr (verify-plan takes a list).
	l.cfg.EventOptions = &EventOptions{Event: ev}
	return nil
}
