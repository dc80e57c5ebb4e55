package doctor

import (
	"context"
	"errors"
	"time"

	"github.com/prstate/prstate/pipeline/identity"
)

// Identity is who a target's requests are signed as (identity.Session).
type Identity interface {
	// How says how the identity was reached, never with a secret.
	How() string
	// SkipsValidation: skip_credentials_validation is set, STS is not asked.
	SkipsValidation() bool
	// Caller asks sts:GetCallerIdentity.
	Caller(ctx context.Context) (identity.Caller, error)
	// CheckAccount applies allowed_account_ids/forbidden_account_ids: an
	// *identity.AccountError when they exclude the caller.
	CheckAccount(ctx context.Context) (identity.Caller, error)
	// AccountRule reports whether either list is set.
	AccountRule() bool
}

// callerTimeout bounds doctor's question to STS: an S3-compatible server
// without STS must not hold the report up for the SDK's retries.
const callerTimeout = 10 * time.Second

// identity: who prstate acts as (sts:GetCallerIdentity), how it was
// reached, and whether the backend's account lists admit it. An excluded
// account stops the checks: prstate refuses to act as it, as terraform
// does, so doctor writes nothing either.
func (c *checker) identity(ctx context.Context) {
	id := c.t.Identity
	if id == nil {
		return
	}
	how := id.How()
	if id.SkipsValidation() && !id.AccountRule() {
		c.add("identity", OK, "reached by "+how+"; sts:GetCallerIdentity not asked (skip_credentials_validation)", "")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, callerTimeout)
	defer cancel()
	var who identity.Caller
	var err error
	if id.AccountRule() {
		who, err = id.CheckAccount(cctx)
	} else {
		who, err = id.Caller(cctx)
	}
	var ae *identity.AccountError
	switch {
	case errors.As(err, &ae):
		c.add("identity", Fail, ae.Error()+"; reached by "+how,
			"act as a role of an allowed account (assume_role, profile or the job's credentials), or fix "+ae.Rule+" in "+ae.From)
		c.stop = true
	case err != nil && id.AccountRule():
		c.add("identity", Fail, oneLine(err.Error())+"; reached by "+how,
			"allowed_account_ids/forbidden_account_ids need sts:GetCallerIdentity: point endpoints.sts at a server that answers it")
		c.stop = true
	case err != nil:
		c.add("identity", Warn, oneLine(err.Error())+"; reached by "+how,
			"point endpoints.sts (or AWS_ENDPOINT_URL_STS) at a server that answers sts:GetCallerIdentity, or set skip_credentials_validation = true for a server without STS")
	default:
		c.add("identity", OK, who.ARN+" (account "+who.Account+"), reached by "+how, "")
	}
}
