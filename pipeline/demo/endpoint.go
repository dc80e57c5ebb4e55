package demo

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/pipeline/cli"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// openEndpoint points the AWS adapters at endpoint and creates the demo
// bucket (versioned) and lock table when they are missing. Without AWS
// credentials in the environment it uses dummy ones (fine for moto).
func openEndpoint(ctx context.Context, endpoint string) (cli.Store, error) {
	cfg, err := awsstore.Config(ctx, "us-east-1")
	if err != nil {
		return cli.Store{}, err
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("demo", "demo", "")
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true })
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(demoBucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return cli.Store{}, fmt.Errorf("failed to create bucket %s at %s: %w", demoBucket, endpoint, err)
		}
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(demoBucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return cli.Store{}, fmt.Errorf("failed to enable versioning on %s: %w", demoBucket, err)
	}
	_, err = ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(demoTable),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return cli.Store{}, fmt.Errorf("failed to create table %s at %s: %w", demoTable, endpoint, err)
	}
	st := cli.Store{Bucket: awsstore.NewBucket(s3c, demoBucket), Table: awsstore.NewTable(ddb, demoTable)}
	return st, resetDemo(ctx, st)
}

// resetDemo empties the demo's own bucket and table, so the demo can be
// played again against the same endpoint.
func resetDemo(ctx context.Context, st cli.Store) error {
	versions, err := st.Bucket.ListObjectVersions(ctx, "")
	if err != nil {
		return fmt.Errorf("failed to list the demo bucket: %w", err)
	}
	if err := st.Bucket.DeleteObjectVersions(ctx, versions); err != nil {
		return fmt.Errorf("failed to empty the demo bucket: %w", err)
	}
	items, err := st.Table.ScanItems(ctx, "")
	if err != nil {
		return fmt.Errorf("failed to scan the demo table: %w", err)
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it[storage.KeyAttr])
	}
	if err := st.Table.DeleteItems(ctx, ids); err != nil {
		return fmt.Errorf("failed to empty the demo table: %w", err)
	}
	return nil
}
