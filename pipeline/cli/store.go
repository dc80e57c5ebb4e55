package cli

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/identity"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// Store is one stack's bucket and, when a dynamodb-table is set, its table.
type Store struct {
	Bucket storage.Bucket
	Table  storage.Table // nil without a table
	// Identity is who the clients act as (nil for a store that is not
	// AWS's, e.g. memstore in tests).
	Identity *identity.Session
}

// OpenAWS connects as the identity terraform would act as with the
// backend's credential settings (package identity), with the backend's
// region, at the endpoints terraform would use (Backend.S3Endpoint: the
// block's endpoints win over the environment's).
func OpenAWS(ctx context.Context, b backend.Backend) (Store, error) {
	var creds backend.Credentials
	if b.Credentials != nil {
		creds = *b.Credentials
	}
	sess, err := identity.Open(ctx, creds, identity.Options{Region: b.Region})
	if err != nil {
		return Store{}, err
	}
	cfg := sess.Config
	s3c := awsstore.NewS3Client(cfg)
	if ep := b.S3Endpoint(os.Getenv); ep.URL != "" {
		s3c = awsstore.NewS3ClientAt(cfg, ep.URL)
	}
	st := Store{Bucket: awsstore.NewBucket(s3c, b.Bucket), Identity: sess}
	if b.DynamoDBTable != "" {
		ddb := awsstore.NewDynamoDBClient(cfg)
		if ep := b.DynamoDBEndpoint(os.Getenv); ep.URL != "" {
			ddb = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = &ep.URL })
		}
		st.Table = awsstore.NewTable(ddb, b.DynamoDBTable)
	}
	return st, nil
}
