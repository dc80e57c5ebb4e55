package identity

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/storage"
)

// permanent is a configuration error found reaching the identity: exit 2,
// raw kept for --debug.
func permanent(msg string, raw error) error {
	return &storage.Error{Msg: msg, Permanent: true, Raw: raw}
}

// missing is the error of a job without base credentials: one line that
// names the likely cause.
func missing(c backend.Credentials, getenv func(string) string, raw error) error {
	var cause string
	switch {
	case c.Profile != "":
		cause = fmt.Sprintf("profile %q (%s) gives none: check it in the shared credentials and config files%s", c.Profile, c.ProfileFrom, files(c))
	case getenv("AWS_PROFILE") != "":
		cause = fmt.Sprintf("profile %q (AWS_PROFILE) gives none: check it in the shared credentials and config files%s", getenv("AWS_PROFILE"), files(c))
	case getenv("GITHUB_ACTIONS") == "true" && getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "":
		cause = "the job cannot get an OIDC token: give it `permissions: id-token: write` and an aws-actions/configure-aws-credentials step (role-to-assume) before prstate; a pull request from a fork gets no token and no secrets, so it cannot run prstate"
	case getenv("GITHUB_ACTIONS") == "true":
		cause = "the job may request an OIDC token but no step turned it into credentials: add aws-actions/configure-aws-credentials (role-to-assume) before prstate"
	default:
		cause = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or profile in the backend block"
	}
	return permanent("no AWS credentials (looked in the environment, the shared files, the container and EC2 instance roles): "+cause, raw)
}

func files(c backend.Credentials) string {
	var fs []string
	fs = append(fs, c.SharedCredentialsFiles...)
	fs = append(fs, c.SharedConfigFiles...)
	if len(fs) == 0 {
		return ""
	}
	return " (" + strings.Join(fs, ", ") + ")"
}

// loadError is a failure to load the shared configuration.
func loadError(c backend.Credentials, err error) error {
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		from := "AWS_PROFILE"
		if c.Profile != "" {
			from = c.ProfileFrom
		}
		return permanent(fmt.Sprintf("profile %q (%s) is in no shared credentials or config file%s", pe.Profile, from, files(c)), err)
	}
	return permanent("failed to load the AWS configuration: "+oneLine(err.Error()), err)
}

// stsError classifies an STS failure: an answer (access denied, rejected
// or expired credentials, a bad request) is permanent, exit 2, naming the
// action; no answer is a failure to reach STS.
func stsError(what, action string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch code {
		case "AccessDenied", "AccessDeniedException":
			return permanent(fmt.Sprintf("%s: access denied (%s)", what, action), err)
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId":
			return permanent(fmt.Sprintf("%s: STS rejected the credentials (%s, %s)", what, code, action), err)
		case "ExpiredToken", "ExpiredTokenException":
			return permanent(fmt.Sprintf("%s: the credentials have expired (%s, %s)", what, code, action), err)
		}
		return permanent(fmt.Sprintf("%s: %s: %s (%s)", what, code, oneLine(ae.ErrorMessage()), action), err)
	}
	var oe *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &oe):
		return &storage.Error{Msg: fmt.Sprintf("%s: cannot reach STS at %v (%s)", what, oe.Addr, action), Raw: err}
	}
	return &storage.Error{Msg: fmt.Sprintf("%s (%s): %s", what, action, oneLine(err.Error())), Raw: err}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// describeSource says where the base credentials came from, by the
// provider that gave them (never what they are).
func describeSource(c backend.Credentials, source string, getenv func(string) string) string {
	profile := "the default profile"
	switch {
	case c.Profile != "":
		profile = fmt.Sprintf("profile %q from %s", c.Profile, c.ProfileFrom)
	case getenv("AWS_PROFILE") != "":
		profile = fmt.Sprintf("profile %q from AWS_PROFILE", getenv("AWS_PROFILE"))
	}
	switch {
	case c.AccessKey != "":
		return "the static access_key from " + c.StaticFrom
	case source == "EnvConfigCredentials":
		return "the environment's credentials (AWS_ACCESS_KEY_ID)"
	case strings.HasPrefix(source, "SharedConfigCredentials"):
		file := strings.TrimSpace(strings.TrimPrefix(source, "SharedConfigCredentials:"))
		if file != "" && file != source {
			return profile + " (" + file + ")"
		}
		return profile
	case source == "WebIdentityCredentials" && c.Profile == "" && getenv("AWS_ROLE_ARN") != "":
		return fmt.Sprintf("the environment's web identity (AWS_ROLE_ARN %s, AWS_WEB_IDENTITY_TOKEN_FILE)", getenv("AWS_ROLE_ARN"))
	case source == "WebIdentityCredentials":
		return profile + " (web_identity_token_file)"
	case source == "AssumeRoleProvider":
		return profile + " (its role_arn)"
	case source == "SSOProvider":
		return profile + " (SSO)"
	case source == "ProcessProvider":
		return profile + " (credential_process)"
	case source == "EC2RoleProvider":
		return "the EC2 instance's role (instance metadata)"
	case source == "CredentialsEndpointProvider":
		return "the container's role (credentials endpoint)"
	}
	return "the SDK's chain (" + source + ")"
}
