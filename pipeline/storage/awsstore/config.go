package awsstore

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxAttempts is how many times one request is tried.
const maxAttempts = 8

// Config loads the SDK's default configuration chain: region, credentials
// (environment, shared files, SSO, web identity as set up by
// configure-aws-credentials, IMDS) and endpoints (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB). A non-empty region
// overrides AWS_REGION; an empty one leaves the chain's choice.
func Config(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	// A job must ride out throttling and lost connections: more attempts
	// than the SDK's 3 (Terraform's S3 backend makes 5), unless the user
	// set AWS_MAX_ATTEMPTS.
	if os.Getenv("AWS_MAX_ATTEMPTS") == "" {
		opts = append(opts, config.WithRetryMaxAttempts(maxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("failed to load AWS config: %w", err)
	}
	return cfg, nil
}

// NewS3Client returns an S3 client for cfg. When a custom S3 endpoint is
// configured (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or cfg.BaseEndpoint),
// it uses path-style addressing, which S3-compatible servers (MinIO, moto,
// LocalStack) need.
func NewS3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// o.BaseEndpoint is already resolved here from cfg and the
		// service-specific environment and shared config settings.
		if o.BaseEndpoint != nil || customS3Endpoint() {
			o.UsePathStyle = true
		}
		// S3-compatible servers answer without checksums; the SDK would
		// log a line on stderr for every object read.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// customS3Endpoint reports whether the environment points S3 elsewhere.
func customS3Endpoint() bool {
	return os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}

// NewDynamoDBClient returns a DynamoDB client for cfg.
func NewDynamoDBClient(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg)
}
