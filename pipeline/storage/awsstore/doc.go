// Package awsstore implements storage.Bucket on Amazon S3 and storage.Table
// on Amazon DynamoDB with aws-sdk-go-v2. The adapters are thin: they
// translate calls, paginate, batch, and map service errors onto
// storage.ErrNotFound and storage.ErrPrecondition. They never log; errors
// carry the SDK's message, which holds no credentials.
package awsstore
