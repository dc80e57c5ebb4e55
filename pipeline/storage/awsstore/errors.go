package awsstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/prstate/prstate/pipeline/storage"
)

// s3Sentinel maps an S3 error onto storage.ErrNotFound or
// storage.ErrPrecondition, or returns nil. A missing bucket is never
// ErrNotFound: that is a configuration error, not an absent object.
func s3Sentinel(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return storage.ErrPrecondition
		case "NoSuchKey", "NotFound":
			return storage.ErrNotFound
		case "NoSuchBucket":
			return nil
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 412:
			return storage.ErrPrecondition
		case 404:
			return storage.ErrNotFound
		}
	}
	return nil
}

// dynamoSentinel maps a DynamoDB error onto storage.ErrPrecondition, or
// returns nil.
func dynamoSentinel(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ConditionalCheckFailedException" {
		return storage.ErrPrecondition
	}
	return nil
}

// transactSentinel maps a canceled PutItemChecked transaction (check
// first, put second) onto storage.ErrCheckFailed or
// storage.ErrPrecondition, or returns nil.
func transactSentinel(err error) error {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return dynamoSentinel(err)
	}
	for i, r := range tc.CancellationReasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		if i == 0 {
			return storage.ErrCheckFailed
		}
		return storage.ErrPrecondition
	}
	return nil
}

// target names what a request touched, for the human line.
type target struct {
	service  string // S3 | DynamoDB
	action   string // s3:GetObject, dynamodb:PutItem
	resource string // s3://bucket/key, table t
	bucket   string // S3 only
	table    string // DynamoDB only
	region   string
}

// classify turns an SDK error into a *storage.Error: permanent errors get
// one line that names the fix, transient ones "failed to <what>: <why>".
func classify(what string, t target, sentinel, err error) error {
	if msg, ok := permanent(t, err); ok {
		return &storage.Error{Msg: msg, Permanent: true, Raw: err, Sentinel: sentinel}
	}
	return &storage.Error{Msg: "failed to " + what + ": " + brief(err), Raw: err, Sentinel: sentinel}
}

// permanent recognises the errors that retrying does not fix.
func permanent(t target, err error) (string, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	region := ""
	if t.region != "" {
		region = " (region " + t.region + ")"
	}
	code, msg := ae.ErrorCode(), ae.ErrorMessage()
	switch code {
	case "NoSuchBucket":
		return fmt.Sprintf("S3 bucket %q does not exist%s", t.bucket, region), true
	case "ResourceNotFoundException":
		return fmt.Sprintf("DynamoDB table %q does not exist%s", t.table, region), true
	case "AccessDenied", "AccessDeniedException", "AllAccessDisabled":
		return fmt.Sprintf("access denied: %s on %s", t.action, t.resource), true
	case "InvalidAccessKeyId", "UnrecognizedClientException", "InvalidClientTokenId":
		return fmt.Sprintf("%s rejected the AWS access key ID (%s): check the credentials", t.service, code), true
	case "SignatureDoesNotMatch", "InvalidSignatureException":
		return fmt.Sprintf("%s rejected the request signature (%s): check the AWS secret access key", t.service, code), true
	case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
		return fmt.Sprintf("the AWS credentials have expired (%s): refresh them", code), true
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
		return fmt.Sprintf("S3 bucket %q is not in region %q (%s): set the region", t.bucket, t.region, code), true
	case "ValidationException":
		if strings.Contains(msg, "key element does not match the schema") || strings.Contains(msg, "required keys was not given") || strings.Contains(msg, "Missing the key") {
			return fmt.Sprintf("DynamoDB table %q has no string partition key %s: a Terraform lock table needs one", t.table, storage.KeyAttr), true
		}
		return fmt.Sprintf("DynamoDB rejected %s on table %s: %s", t.action, t.table, msg), true
	}
	return "", false
}

// brief is a transient error without the SDK's request IDs and wrapping.
func brief(err error) string {
	attempts := ""
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		attempts = fmt.Sprintf(" (after %d attempts)", me.Attempt)
	}
	var ae smithy.APIError
	var re *awshttp.ResponseError
	var oe *net.OpError
	switch {
	case errors.As(err, &ae):
		status := ""
		if errors.As(err, &re) {
			status = fmt.Sprintf("%d ", re.HTTPStatusCode())
		}
		return fmt.Sprintf("%s%s: %s%s", status, ae.ErrorCode(), ae.ErrorMessage(), attempts)
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out" + attempts
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &oe):
		cause := oe.Err.Error()
		var se interface{ Unwrap() error }
		if errors.As(oe.Err, &se) && se.Unwrap() != nil {
			cause = se.Unwrap().Error()
		}
		return fmt.Sprintf("cannot reach %v: %s%s", oe.Addr, cause, attempts)
	case errors.As(err, &re):
		return fmt.Sprintf("HTTP %d%s", re.HTTPStatusCode(), attempts)
	}
	return err.Error()
}
