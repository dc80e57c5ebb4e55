package cli

import (
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/runner"
)

// pullRequestTargetRisk is the warning of every run on pull_request_target.
const pullRequestTargetRisk = "this job runs on pull_request_target: it has the base repository's secrets and whatever AWS role it can assume (production-capable credentials, if the workflow grants them) while it may run code from a fork's pull request. " +
	"Do not check out or run the PR's code in it (terraform plan runs providers and modules the PR chose); use pull_request for plans, " +
	"and give this job only the plan role of prstate iam --job plan. See README: Fork pull requests"

// warnEventRisks warns of events that put credentials next to code from
// outside the repository.
func warnEventRisks(rep runner.Reporter, ev ci.Event) {
	if ev.Name == "pull_request_target" {
		rep.Warning(pullRequestTargetRisk)
	}
}
