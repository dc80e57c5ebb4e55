package cli

import (
	"regexp"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

// EventOptions is the CI event the command acts on, read once per process,
// with --pr on top for the commands that act on one pull request's key.
type EventOptions struct {
	PR    int
	Event ci.Event
	pr    StringValue
	// prFlag: the command acts on one pull request's key and binds --pr
	// (Config.prEvent); the others read the event alone.
	prFlag bool
}

func (o *EventOptions) addFlags(s *settingSet) {
	if o.prFlag {
		o.pr = s.String(prSetting)
	}
}

// prValue is --pr (PRSTATE_PR, INPUT_PR) when the command binds it.
func (o *EventOptions) prValue() (string, bool) {
	if !o.prFlag {
		return "", false
	}
	return o.pr.Get()
}

func (o *EventOptions) load(l *loader) error {
	if v, set := o.prValue(); set {
		pr, err := ci.ParsePR(v)
		if err != nil {
			return err
		}
		o.PR = pr
	}
	ev, err := l.event()
	if err != nil {
		return err
	}
	o.Event, err = ev.WithPR(o.PR)
	return err
}

// LockStoreOptions says where the apply lock lives.
type LockStoreOptions struct {
	LockBackend string // dynamodb | s3
	lockBackend StringValue
}

func (o *LockStoreOptions) addFlags(s *settingSet) { o.lockBackend = s.String(lockBackendSetting) }

// LockBackendOrigin says how the user set lock-backend ("" when nothing did).
func (o LockStoreOptions) LockBackendOrigin() string { return o.lockBackend.Origin() }

// load needs the stacks loaded: auto picks dynamodb when a table is set.
func (o *LockStoreOptions) load(l *loader) error {
	table := l.cfg.Main().Backend.DynamoDBTable
	switch lb := o.lockBackend.Text(); lb {
	case "", "auto":
		o.LockBackend = "s3"
		if table != "" {
			o.LockBackend = "dynamodb"
		}
	case "s3":
		o.LockBackend = "s3"
	case "dynamodb":
		for _, st := range l.cfg.Stacks {
			if st.Backend.DynamoDBTable == "" {
				return usage.Errorf("lock-backend dynamodb needs a dynamodb-table (%s has none)", displayDir(l.cwd, st.Dir))
			}
		}
		o.LockBackend = "dynamodb"
	default:
		return usage.Errorf("invalid lock-backend %q: want auto, dynamodb or s3", lb)
	}
	return nil
}

// LockTimeoutOptions bounds a wait for a lock (apply lock or state lock).
type LockTimeoutOptions struct {
	LockTimeout time.Duration
	lockTimeout DurationValue
}

func (o *LockTimeoutOptions) addFlags(s *settingSet) { o.lockTimeout = s.Duration(lockTimeoutSetting) }

func (o *LockTimeoutOptions) load(*loader) (err error) {
	o.LockTimeout, _, err = o.lockTimeout.Get()
	return err
}

// LeaseOptions are the apply lock's lease, how often a waiter reads it,
// and what a waiter honours of a holder's lease.
type LeaseOptions struct {
	Lease     time.Duration // 0: the command's default
	LockPoll  time.Duration
	MaxLease  time.Duration // the longest lease a waiter honours
	ClockSkew time.Duration // allowed between a holder's clock and DynamoDB's

	lease, lockPoll, maxLease, clockSkew DurationValue
}

func (o *LeaseOptions) addFlags(s *settingSet) {
	o.lease = s.Duration(leaseSetting)
	o.lockPoll = s.Duration(lockPollSetting)
	o.maxLease = s.Duration(maxLeaseSetting)
	o.clockSkew = s.Duration(clockSkewSetting)
}

func (o *LeaseOptions) load(*loader) error {
	var err error
	if o.Lease, _, err = o.lease.Get(); err != nil {
		return err
	}
	if o.MaxLease, _, err = o.maxLease.Get(); err != nil {
		return err
	}
	if o.ClockSkew, _, err = o.clockSkew.Get(); err != nil {
		return err
	}
	poll, set, err := o.lockPoll.Get()
	switch {
	case err != nil:
		return err
	case !set:
		o.LockPoll = applylock.DefaultLockPoll
	case poll < 10*time.Millisecond:
		return usage.Errorf("invalid lock-poll %s: want at least 10ms", poll)
	default:
		o.LockPoll = poll
	}
	return nil
}

// LockIDOptions name a lock by its ID.
type LockIDOptions struct {
	LockID string
	lockID StringValue
}

func (o *LockIDOptions) addFlags(s *settingSet) { o.lockID = s.String(lockIDSetting) }
func (o *LockIDOptions) load(*loader) error     { o.LockID = o.lockID.Text(); return nil }

// GitHubOptions reach the GitHub API.
type GitHubOptions struct {
	GitHubToken string
	githubToken StringValue
}

func (o *GitHubOptions) addFlags(s *settingSet) { o.githubToken = s.String(githubTokenSetting) }
func (o *GitHubOptions) load(*loader) error     { o.GitHubToken = o.githubToken.Text(); return nil }

// CommentOptions keep the sticky pull request comment.
type CommentOptions struct {
	Comment       bool
	CommentAuthor string // an app's "<slug>[bot]"; empty: github-actions[bot]
	comment       BoolValue
	commentAuthor StringValue
}

func (o *CommentOptions) addFlags(s *settingSet) {
	o.comment = s.Bool(commentSetting)
	o.commentAuthor = s.String(commentAuthorSetting)
}

// appBotLogin is an app's bot account: its slug and "[bot]", which no
// user login can be.
var appBotLogin = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}\[bot\]$`)

func (o *CommentOptions) load(*loader) (err error) {
	if o.Comment, _, err = o.comment.Get(); err != nil {
		return err
	}
	o.CommentAuthor = o.commentAuthor.Text()
	if o.CommentAuthor != "" && !appBotLogin.MatchString(o.CommentAuthor) {
		return usage.Errorf("invalid comment-author %q: want an app's bot account, <app-slug>[bot]", o.CommentAuthor)
	}
	return nil
}

// OutputOptions say how the result (and an error) is printed.
type OutputOptions struct {
	JSON        bool
	Debug       bool // the storage SDK's raw error detail too
	json, debug BoolValue
}

func (o *OutputOptions) addFlags(s *settingSet) {
	o.json = s.Bool(jsonSetting)
	o.debug = s.Bool(debugSetting)
}

func (o *OutputOptions) load(*loader) (err error) {
	if o.JSON, _, err = o.json.Get(); err != nil {
		return err
	}
	o.Debug, _, err = o.debug.Get()
	return err
}

// PlanOptions are what plan writes and seeds.
type PlanOptions struct {
	Seed        string // none | production
	ExportEnv   bool
	BackendFile string

	seed, backendFile StringValue
	exportEnv         BoolValue
}

func (o *PlanOptions) addFlags(s *settingSet) {
	o.seed = s.String(seedSetting)
	o.exportEnv = s.Bool(exportEnvSetting)
	o.backendFile = s.String(backendConfigFileSetting)
}

func (o *PlanOptions) load(*loader) error {
	var err error
	if o.ExportEnv, _, err = o.exportEnv.Get(); err != nil {
		return err
	}
	o.BackendFile = o.backendFile.Text()
	o.Seed = o.seed.Text()
	if o.Seed == "" || o.Seed == "false" {
		o.Seed = "none"
	}
	if o.Seed != "none" && o.Seed != "production" {
		return usage.Errorf("invalid seed %q: want none or production", o.Seed)
	}
	return nil
}

// ForceOptions override a guard (an applied-to PR state, a live holder).
type ForceOptions struct {
	Force bool
	force BoolValue
}

func (o *ForceOptions) addFlags(s *settingSet) { o.force = s.Bool(forceSetting) }

func (o *ForceOptions) load(*loader) (err error) {
	o.Force, _, err = o.force.Get()
	return err
}

// DryRunOptions print what would be deleted.
type DryRunOptions struct {
	DryRun bool
	dryRun BoolValue
}

func (o *DryRunOptions) addFlags(s *settingSet) { o.dryRun = s.Bool(dryRunSetting) }

func (o *DryRunOptions) load(*loader) (err error) {
	o.DryRun, _, err = o.dryRun.Get()
	return err
}

// SweepOptions says which PR states a sweep removes by age.
type SweepOptions struct {
	OlderThan time.Duration
	olderThan DurationValue
}

func (o *SweepOptions) addFlags(s *settingSet) { o.olderThan = s.Duration(olderThanSetting) }

func (o *SweepOptions) load(*loader) (err error) {
	o.OlderThan, _, err = o.olderThan.Get()
	return err
}

// SupersedeOptions says what the supersede check lets through.
// Coalesce: waiters coalesce (applylock/waiters.go).
type SupersedeOptions struct {
	AllowDiverged bool
	Coalesce      bool
	allowDiverged BoolValue
	coalesce      BoolValue
}

func (o *SupersedeOptions) addFlags(s *settingSet) {
	o.allowDiverged = s.Bool(allowDivergedSetting)
	o.coalesce = s.Bool(coalesceSetting)
}

func (o *SupersedeOptions) load(*loader) (err error) {
	if o.AllowDiverged, _, err = o.allowDiverged.Get(); err != nil {
		return err
	}
	o.Coalesce, _, err = o.coalesce.Get()
	return err
}
