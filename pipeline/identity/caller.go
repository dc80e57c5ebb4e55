package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/prstate/prstate/pipeline/usage"
)

// Caller is who STS says the credentials are (sts:GetCallerIdentity).
type Caller struct {
	ARN     string
	Account string
}

// How says how the identity was reached, e.g. "assume_role
// arn:aws:iam::1:role/x from infra/main.tf:9, chained from the
// environment's credentials (AWS_ACCESS_KEY_ID)". It never holds a secret.
func (s *Session) How() string { return s.how }

// Caller asks STS who the credentials are.
func (s *Session) Caller(ctx context.Context) (Caller, error) {
	out, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, stsError("cannot ask STS who these credentials are", "sts:GetCallerIdentity", err)
	}
	return Caller{ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account)}, nil
}

// AccountRule reports whether allowed_account_ids or
// forbidden_account_ids is set.
func (s *Session) AccountRule() bool {
	return s.creds.AllowedAccountIDs != nil || s.creds.ForbiddenAccountIDs != nil
}

// SkipsValidation reports whether skip_credentials_validation is set: no
// sts:GetCallerIdentity call is made (S3-compatible servers have no STS).
func (s *Session) SkipsValidation() bool { return s.creds.SkipCredentialsValidation }

// AccountError is an identity that allowed_account_ids or
// forbidden_account_ids excludes: prstate refuses to act, as terraform does.
type AccountError struct {
	Caller Caller
	Rule   string // allowed_account_ids or forbidden_account_ids
	From   string // where the rule was set
}

func (e *AccountError) Error() string {
	acct := e.Caller.Account
	if acct == "" {
		acct = "(not asked: skip_credentials_validation and skip_requesting_account_id are set)"
	}
	verb := "is not in"
	if e.Rule == "forbidden_account_ids" {
		verb = "is in"
	}
	who := ""
	if e.Caller.ARN != "" {
		who = " (" + e.Caller.ARN + ")"
	}
	return fmt.Sprintf("AWS account %s%s %s %s (%s): refusing to act as it", acct, who, verb, e.Rule, e.From)
}

// Unwrap makes it a usage error: exit 2.
func (e *AccountError) Unwrap() error { return &usage.Error{Msg: e.Error()} }

// CheckAccount applies allowed_account_ids and forbidden_account_ids to
// the identity, as terraform does before any request: nil when neither is
// set (no STS call is made then), else the caller, and an *AccountError
// when the rule excludes it. With skip_credentials_validation and
// skip_requesting_account_id both set, the account is unknown ("") as in
// terraform: no allowed list admits it.
func (s *Session) CheckAccount(ctx context.Context) (Caller, error) {
	if !s.AccountRule() {
		return Caller{}, nil
	}
	var who Caller
	if !s.creds.SkipCredentialsValidation || !s.creds.SkipRequestingAccountID {
		var err error
		if who, err = s.Caller(ctx); err != nil {
			return Caller{}, err
		}
	}
	c := s.creds
	switch {
	case c.ForbiddenAccountIDs != nil && slices.Contains(c.ForbiddenAccountIDs, who.Account):
		return who, &AccountError{Caller: who, Rule: "forbidden_account_ids", From: c.AccountsFrom}
	case c.AllowedAccountIDs != nil && !slices.Contains(c.AllowedAccountIDs, who.Account):
		return who, &AccountError{Caller: who, Rule: "allowed_account_ids", From: c.AccountsFrom}
	}
	return who, nil
}

// IsAccountError reports whether err is an *AccountError.
func IsAccountError(err error) bool {
	var ae *AccountError
	return errors.As(err, &ae)
}

// RoleName is the role of an assumed-role ARN, "" for other identities.
func RoleName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok {
		return ""
	}
	role, _, _ := strings.Cut(rest, "/")
	return role
}
