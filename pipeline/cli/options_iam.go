package cli

import (
	"strings"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/usage"
)

// IAMOptions say whose role prstate iam prints, and what it trusts.
type IAMOptions struct {
	Repository, DefaultBranch, Environment, AccountID string
	RepositoryID, OwnerID                             string // "" unless set: then the event's IDs, if any
	LockBackendChoice                                 string // auto | s3 | dynamodb, resolved per stack

	repository, defaultBranch, environment, accountID, lockBackend StringValue
	repositoryID, ownerID                                          StringValue
}

func (o *IAMOptions) addFlags(s *settingSet) {
	o.repository = s.String(repositorySetting)
	o.defaultBranch = s.String(defaultBranchSetting)
	o.environment = s.String(environmentSetting)
	o.accountID = s.String(accountIDSetting)
	o.repositoryID = s.String(repositoryIDSetting)
	o.ownerID = s.String(ownerIDSetting)
	o.lockBackend = s.String(lockBackendSetting)
}

func (o *IAMOptions) load(*loader) error {
	o.Repository = o.repository.Text()
	o.DefaultBranch = o.defaultBranch.Text()
	o.Environment = strings.TrimSpace(o.environment.Text())
	o.AccountID = strings.TrimSpace(o.accountID.Text())
	o.RepositoryID = strings.TrimSpace(o.repositoryID.Text())
	o.OwnerID = strings.TrimSpace(o.ownerID.Text())
	switch o.LockBackendChoice = o.lockBackend.Text(); o.LockBackendChoice {
	case "", "auto", "s3", "dynamodb":
		return nil
	}
	return usage.Errorf("invalid lock-backend %q: want auto, dynamodb or s3", o.LockBackendChoice)
}

// JobOptions name the CI job (iam: whose role; doctor: whose probes).
type JobOptions struct {
	Job string // "" when not set
	job StringValue
}

func (o *JobOptions) addFlags(s *settingSet) { o.job = s.String(jobSetting) }
func (o *JobOptions) load(*loader) error     { o.Job = strings.TrimSpace(o.job.Text()); return nil }

// DoctorEnvOptions name the environment whose protection doctor checks on
// GitHub (the environment the job's role trusts).
type DoctorEnvOptions struct {
	DoctorEnvironment string // "" when not set
	environment       StringValue
}

func (o *DoctorEnvOptions) addFlags(s *settingSet) { o.environment = s.String(environmentSetting) }

func (o *DoctorEnvOptions) load(*loader) error {
	o.DoctorEnvironment = strings.TrimSpace(o.environment.Text())
	if o.DoctorEnvironment == "" {
		return nil
	}
	return iam.ValidEnvironment(o.DoctorEnvironment)
}
