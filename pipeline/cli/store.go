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
// region. Endpoints in the backend block apply when the environment sets
// none.
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
	if b.EndpointS3 != "" && !envEndpoint("AWS_ENDPOINT_URL_S3") {
		s3c = awsstore.NewS3ClientAt(cfg, b.EndpointS3)
	}
	st := Store{Bucket: awsstore.NewBucket(s3c, b.Bucket), Identity: sess}
	if b.DynamoDBTable != "" {
		ddb := awsstore.NewDynamoDBClient(cfg)
		if b.EndpointDynamoDB != "" && !envEndpoint("AWS_ENDPOINT_URL_DYNAMODB") {
			ddb = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = &b.EndpointDynamoDB })
		}
		st.Table = awsstore.NewTable(ddb, b.DynamoDBTable)
	}
	return st, nil
}

// envEndpoint tells whether the environment already points the SDK elsewhere.
func envEndpoint(name string) bool {
	return os.Getenv(name) != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}
