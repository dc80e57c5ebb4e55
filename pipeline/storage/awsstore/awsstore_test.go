package awsstore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
	"github.com/prstate/prstate/pipeline/storage/storagetest"
)

// The suites race conditional writes, so they reach moto through its
// serializing proxy (see testenv.SerialConfig).
func TestBucket(t *testing.T) {
	m := testenv.Moto(t)
	client := s3.NewFromConfig(m.SerialConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	storagetest.RunBucket(t, func(t *testing.T) storage.Bucket {
		return awsstore.NewBucket(client, m.NewBucket(t, true))
	})
}

func TestTable(t *testing.T) {
	m := testenv.Moto(t)
	client := dynamodb.NewFromConfig(m.SerialConfig(t))
	storagetest.RunTable(t, func(t *testing.T) storage.Table {
		return awsstore.NewTable(client, m.NewTable(t))
	})
}
