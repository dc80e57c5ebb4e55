package awsstore

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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

// wrap returns "failed to <what>: <sentinel>: <err>", so that errors.Is
// finds both the sentinel and the SDK error.
func wrap(what string, sentinel, err error) error {
	if sentinel != nil {
		return fmt.Errorf("failed to %s: %w: %w", what, sentinel, err)
	}
	return fmt.Errorf("failed to %s: %w", what, err)
}
