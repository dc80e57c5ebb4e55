package cli

import (
	"sort"

	"github.com/prstate/prstate/pipeline/statekey"
)

// The settings, each declared once: its one kebab-case name (the CLI flag,
// the action input INPUT_<NAME> with hyphens kept, and PRSTATE_<NAME> in
// upper snake case), its kind, its default and its usage. The option
// groups (options_*.go) bind them; a command reads only the groups it
// declares.
var (
	commandSetting            = stringSetting("command", "auto", "what to do: auto, key, plan, lock, unlock, run, status, force-unlock, cleanup, sweep, iam, doctor, verify-plan, stacks")
	backendConfigSetting      = listSetting("backend-config", "", "what you pass to terraform init -backend-config: a file (relative to the working directory) or key=value; repeat it (input and PRSTATE_BACKEND_CONFIG: newline or comma separated)")
	binarySetting             = stringSetting("binary", "auto", "whose configuration file rules apply: auto, terraform (*.tf, *.tf.json) or tofu (also *.tofu, *.tofu.json)")
	workingDirectorySetting   = stringSetting("working-directory", ".", "Terraform root module(s) whose backend \"s3\" block is read; several, comma/newline separated or a glob (inside the workspace): every command works on all, lock/run/unlock take their apply locks in bucket/key order; stacks: the directory to search")
	bucketSetting             = stringSetting("bucket", "", "S3 bucket of the state")
	keySetting                = stringSetting("key", "", "production state key, e.g. app/terraform.tfstate")
	regionSetting             = stringSetting("region", "", "AWS region (default: the backend block, then the SDK chain)")
	dynamoDBTableSetting      = stringSetting("dynamodb-table", "", "DynamoDB lock table (Terraform's dynamodb_table)")
	useLockfileSetting        = boolSetting("use-lockfile", "", "Terraform's S3 lockfile (use_lockfile)")
	lockBackendSetting        = stringSetting("lock-backend", "auto", "apply lock store: auto (dynamodb when a table is set), dynamodb, s3")
	isolationSetting          = stringSetting("isolation", "key", "PR state isolation: key (a PR key beside production) or workspace (Terraform workspace pr-N)")
	keyTemplateSetting        = stringSetting("key-template", statekey.DefaultKeyTemplate, "PR key template, placeholders "+statekey.Placeholders())
	workspaceKeyPrefixSetting = stringSetting("workspace-key-prefix", "", "Terraform's workspace_key_prefix (default env:)")
	seedSetting               = stringSetting("seed", "none", "seed a new PR state from: none, production")
	lockTimeoutSetting        = durationSetting("lock-timeout", "30m", "how long to wait for a lock before exit 3")
	leaseSetting              = durationSetting("lease", "", "apply lock lease (default 5m for run, at least 3s; 6h for lock, at least 1m: lock cannot stop the job's steps)")
	lockPollSetting           = durationSetting("lock-poll", "500ms", "how often a waiter reads the apply lock (plus up to 25% jitter)")
	maxLeaseSetting           = durationSetting("max-lease", "8h", "the longest apply lock lease a waiter honours: a holder asking for more is taken over after this")
	clockSkewSetting          = durationSetting("clock-skew", "1m", "how far a holder's clock may be off DynamoDB's: a waiter of a lock without heartbeats adds it to the lease")
	debugSetting              = boolSetting("debug", "false", "print the storage SDK's raw error detail (request IDs)")
	githubTokenSetting        = stringSetting("github-token", "", "GitHub token for the API (run liveness, PR states, comments)")
	commentSetting            = boolSetting("comment", "false", "keep a sticky comment on the pull request")
	commentAuthorSetting      = stringSetting("comment-author", "", "the app whose sticky comments prstate adopts when github-token is a GitHub App's installation token, as <app-slug>[bot] (default github-actions[bot]; a personal token is asked with GET /user)")
	dryRunSetting             = boolSetting("dry-run", "false", "print what would be deleted, delete nothing")
	olderThanSetting          = durationSetting("older-than", "", "sweep: also remove PR states not written for this long")
	forceSetting              = boolSetting("force", "false", "delete a PR state that was applied to; force-unlock a live holder")
	prSetting                 = stringSetting("pr", "", "pull request number (outside CI, or to override)")
	lockIDSetting             = stringSetting("lock-id", "", "lock ID (unlock, force-unlock)")
	jsonSetting               = boolSetting("json", "false", "print JSON")
	exportEnvSetting          = boolSetting("export-env", "false", "export TF_CLI_ARGS_init (and TF_WORKSPACE) through GITHUB_ENV")
	backendConfigFileSetting  = stringSetting("backend-config-file", "", "where plan writes the backend config (default: <working-directory>/prstate.s3.tfbackend)")
	allowDivergedSetting      = boolSetting("allow-diverged", "false", "apply a commit that diverged from the last applied one")
	coalesceSetting           = boolSetting("coalesce", "true", "lock, run: waiters announce themselves; an older commit that a newer waiting one contains skips, so only the newest applies")
	endpointSetting           = stringSetting("endpoint", "", "demo: run against this S3/DynamoDB API instead of in memory")
	jobSetting                = stringSetting("job", "", "the CI job: plan, cleanup, apply, sweep, ops (iam: whose role to print; doctor: whose permissions to probe, default from the event)")
	repositorySetting         = stringSetting("repository", "", "iam: owner/name of the repository the role trusts (default GITHUB_REPOSITORY)")
	defaultBranchSetting      = stringSetting("default-branch", "", "iam: the default branch apply and sweep run on (default: the event's, else main)")
	environmentSetting        = stringSetting("environment", "", "iam: the protected environment apply, sweep or ops runs in, or the gated seed role's (plan --seed production); doctor: the environment to check on GitHub")
	accountIDSetting          = stringSetting("account-id", "", "iam: the AWS account (12 digits) of the OIDC provider and lock table; needed with a lock table")
	repositoryIDSetting       = stringSetting("repository-id", "", "iam: the repository's numeric ID, for GitHub's immutable OIDC subject repo:OWNER@ID/REPO@ID (default: the event's repository.id, with owner-id)")
	ownerIDSetting            = stringSetting("owner-id", "", "iam: the repository owner's numeric ID, for the immutable OIDC subject (default: the event's repository.owner.id)")
	planJSONSetting           = stringSetting("plan-json", "", "the output of terraform show -json <planfile> (relative to the working directory): plan records it as the reviewed plan, verify-plan compares the apply-time plan with the records")
	onPlanChangeSetting       = stringSetting("on-plan-change", "warn", "verify-plan when the apply-time plan is not what was reviewed: warn (a warning, exit 0) or fail (exit 1)")
	changedSetting            = boolSetting("changed", "false", "stacks: only the stacks the change touches (a file in the stack, or in a local module it calls)")
	baseSetting               = stringSetting("base", "", "stacks --changed: the commit to compare with (default: the pull request's base, the push's before)")
)

// SettingNames lists every setting name (flags, PRSTATE_ env, action inputs).
func SettingNames() []string {
	names := make([]string, 0, len(declared))
	for _, s := range declared {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}
