package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

var resourceSeq atomic.Int64

// uniqueName returns prefix-N-RANDOM: lower-case letters, digits and
// hyphens only, so it is a valid S3 bucket and DynamoDB table name.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", prefix, resourceSeq.Add(1), hex.EncodeToString(b[:]))
}

// NewBucket creates a uniquely named bucket, versioned or not, and returns
// its name.
func (m *MotoServer) NewBucket(t testing.TB, versioned bool) string {
	t.Helper()
	return newBucket(t, m.s3, versioned)
}

// NewTable creates a uniquely named table shaped like Terraform's lock
// table (partition key LockID of type string, on-demand billing), waits
// until it is active and returns its name.
func (m *MotoServer) NewTable(t testing.TB) string {
	t.Helper()
	name := uniqueName("prstate-test-locks")
	ctx := t.Context()
	_, err := m.dynamodb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: dynamotypes.BillingModePayPerRequest,
		AttributeDefinitions: []dynamotypes.AttributeDefinition{
			{AttributeName: aws.String(storage.KeyAttr), AttributeType: dynamotypes.ScalarAttributeTypeS},
		},
		KeySchema: []dynamotypes.KeySchemaElement{
			{AttributeName: aws.String(storage.KeyAttr), KeyType: dynamotypes.KeyTypeHash},
		},
	})
	if err != nil {
		t.Fatalf("failed to create table %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(m.dynamodb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("failed to wait for table %s: %v", name, err)
	}
	return name
}

// Bucket returns the bucket name on the server as a storage.Bucket.
func (m *MotoServer) Bucket(t testing.TB, name string) storage.Bucket {
	t.Helper()
	return awsstore.NewBucket(m.s3, name)
}

// Table returns the table name on the server as a storage.Table.
func (m *MotoServer) Table(t testing.TB, name string) storage.Table {
	t.Helper()
	return awsstore.NewTable(m.dynamodb, name)
}

// newBucket creates a uniquely named bucket through c, versioned or not,
// and returns its name (MotoServer.NewBucket, MinIOServer.NewBucket).
func newBucket(t testing.TB, c *s3.Client, versioned bool) string {
	t.Helper()
	name := uniqueName("prstate-test")
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("failed to create bucket %s: %v", name, err)
	}
	if versioned {
		_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		})
		if err != nil {
			t.Fatalf("failed to enable versioning on bucket %s: %v", name, err)
		}
	}
	return name
}

// setenv sets each KEY=value of env with t.Setenv.
func setenv(t testing.TB, env []string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}
