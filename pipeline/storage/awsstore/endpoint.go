package awsstore

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewS3ClientAt returns an S3 client for cfg at endpoint (a backend
// block's endpoints.s3), path-style as S3-compatible servers need, and
// quiet about responses without checksums like NewS3Client.
func NewS3ClientAt(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}
