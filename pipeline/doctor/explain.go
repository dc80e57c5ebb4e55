package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/prstate/prstate/pipeline/storage"
)

// The storage adapters return the SDK's errors wrapped; doctor reads
// them through these two small interfaces (smithy.APIError and
// awshttp.ResponseError have them), so it needs no SDK import.
type apiError interface {
	ErrorCode() string
	ErrorMessage() string
}

type httpStatus interface{ HTTPStatusCode() int }

// code is the error's API code ("" when none).
func code(err error) string {
	var ae apiError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func status(err error) int {
	var hs httpStatus
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	return 0
}

// denied tells an authorization refusal. A HEAD answer has no body: its
// 403 is "Forbidden".
func denied(err error) bool {
	switch code(err) {
	case "AccessDenied", "AccessDeniedException", "AllAccessDisabled", "Forbidden":
		return true
	case "":
		return status(err) == 403
	}
	return false
}

// allowed tells whether a probe's answer shows the request was
// authorized: it succeeded, or was refused for the object's state (absent,
// or a condition designed to fail).
func allowed(err error) bool {
	return err == nil || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPrecondition) || errors.Is(err, storage.ErrCheckFailed)
}

// classified is an error the storage adapters already put in words people
// can act on (storage.Error: one line, exit 2 when permanent).
type classified interface {
	error
	ExitCode() int
}

// explain is one human line for err of action on resource: the storage
// adapters' own line where they classified the error, else doctor's.
func explain(err error, action, resource string) string {
	var ce classified
	switch c := code(err); {
	case denied(err):
		return fmt.Sprintf("access denied: %s on %s", action, resource)
	case errors.As(err, &ce):
		return oneLine(ce.Error())
	case c == "NoSuchBucket":
		return "the bucket does not exist"
	case c == "ResourceNotFoundException":
		return "the table does not exist"
	case c == "InvalidAccessKeyId", c == "UnrecognizedClientException", c == "InvalidClientTokenId":
		return "the AWS access key ID was rejected (" + c + "): check the credentials"
	case c == "SignatureDoesNotMatch", c == "InvalidSignatureException":
		return "the request signature was rejected (" + c + "): check the AWS secret access key"
	case c == "ExpiredToken", c == "ExpiredTokenException", c == "TokenRefreshRequired":
		return "the AWS credentials have expired (" + c + "): refresh them"
	case c == "PermanentRedirect", c == "AuthorizationHeaderMalformed", c == "IllegalLocationConstraintException":
		return "the bucket is in another region (" + c + ")"
	case c != "":
		var ae apiError
		errors.As(err, &ae)
		msg := oneLine(ae.ErrorMessage())
		if msg == "" || msg == c {
			return fmt.Sprintf("%s on %s failed: %s", action, resource, c)
		}
		return fmt.Sprintf("%s on %s failed: %s: %s", action, resource, c, msg)
	}
	var oe *net.OpError
	switch {
	case errors.As(err, &oe) && oe.Addr != nil:
		return fmt.Sprintf("cannot reach %s: %v", oe.Addr, oe.Err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s on %s timed out", action, resource)
	}
	if s := status(err); s > 0 {
		return fmt.Sprintf("%s on %s failed: HTTP %d", action, resource, s)
	}
	return fmt.Sprintf("%s on %s failed: %s", action, resource, oneLine(err.Error()))
}

// oneLine keeps the first line of s, at most 200 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
