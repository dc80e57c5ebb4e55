package testenv

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
)

// S3Server is what MotoServer and MinIOServer share: an S3 API for tests
// to run against either.
type S3Server interface {
	// Name is "moto" or "minio".
	Name() string
	// S3Endpoint is the base URL of the S3 API, http://127.0.0.1:PORT.
	S3Endpoint() string
	// Config is an SDK configuration pointed at the server.
	Config() aws.Config
	// S3 is a path-style S3 client pointed at the server.
	S3() *s3.Client
	// Env is what a child process needs to reach the server's S3 API
	// (AWS_ENDPOINT_URL_S3, credentials, AWS_REGION), to append to
	// os.Environ().
	Env() []string
	// Setenv sets Env with t.Setenv.
	Setenv(t testing.TB)
	// NewBucket creates a uniquely named bucket and returns its name.
	NewBucket(t testing.TB, versioned bool) string
	// Bucket is the named bucket as a storage.Bucket.
	Bucket(t testing.TB, name string) storage.Bucket
}

// S3Flavor names an S3-compatible server and starts it (or returns the
// test binary's running one), ending the test through Require when its
// binary is missing.
type S3Flavor struct {
	Name  string
	Start func(t testing.TB) S3Server
}

// S3Flavors lists the S3-compatible servers, for table-driven tests:
//
//	for _, f := range testenv.S3Flavors() {
//		t.Run(f.Name, func(t *testing.T) {
//			srv := f.Start(t)
//			bucket := srv.NewBucket(t, true)
//			...
//		})
//	}
func S3Flavors() []S3Flavor {
	return []S3Flavor{
		{Name: "moto", Start: func(t testing.TB) S3Server { t.Helper(); return Moto(t) }},
		{Name: "minio", Start: func(t testing.TB) S3Server { t.Helper(); return MinIO(t) }},
	}
}

// Name returns "moto".
func (m *MotoServer) Name() string { return "moto" }

// S3Endpoint returns Endpoint (S3 and DynamoDB share it).
func (m *MotoServer) S3Endpoint() string { return m.Endpoint }

// Name returns "minio".
func (m *MinIOServer) Name() string { return "minio" }

// S3Endpoint returns Endpoint.
func (m *MinIOServer) S3Endpoint() string { return m.Endpoint }

var (
	_ S3Server = (*MotoServer)(nil)
	_ S3Server = (*MinIOServer)(nil)
)
