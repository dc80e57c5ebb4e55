package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

const (
	minioRegion       = "us-east-1" // MinIO's default region
	minioUser         = "prstate-test"
	minioStartTimeout = 60 * time.Second
	minioStartTries   = 3
)

// MinIOServer is a MinIO server shared by every test in the binary, on one
// drive in a temporary directory. It has the S3 API only (no DynamoDB).
// Like MotoServer it runs until the test binary exits.
//
// MinIO is the S3-compatible server users run on premises; its
// conditional writes differ from S3's (see TestConditionalWrites).
type MinIOServer struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string

	secret string
	cfg    aws.Config
	s3     *s3.Client
	proc   *serverProcess
	dir    string
}

var (
	minioOnce   sync.Once
	minioServer *MinIOServer
	minioErr    error
)

// MinIO returns the test binary's MinIO server, starting it on first use
// on a free loopback port and waiting until it answers S3 requests. The
// minio binary is looked for on PATH and in $(go env GOPATH)/bin; without
// it the test is skipped (failed when CI=true; see Require).
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	SkipShort(t, "MinIO")
	path := GoTool(t, "minio")
	minioOnce.Do(func() { minioServer, minioErr = startMinIO(path) })
	if minioErr != nil {
		t.Fatalf("failed to start minio: %v", minioErr)
	}
	return minioServer
}

// startMinIO starts minio, retrying on new ports when it fails (another
// process may have taken a port in between).
func startMinIO(path string) (*MinIOServer, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(b[:])
	var errs []error
	for range minioStartTries {
		m, err := launchMinIO(path, secret)
		if err == nil {
			return m, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// launchMinIO starts one minio server with a fresh data directory and
// waits until it lists buckets.
func launchMinIO(path, secret string) (*MinIOServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	consolePort, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "prstate-minio-")
	if err != nil {
		return nil, err
	}
	m := newMinIOServer("http://127.0.0.1:"+strconv.Itoa(port), secret)
	m.dir = dir
	cmd := exec.Command(path, "server", filepath.Join(dir, "data"),
		"--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		"--certs-dir", filepath.Join(dir, "certs"),
		"--quiet")
	cmd.Env = append(withoutMinIOEnv(os.Environ()),
		"MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+secret,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	probe := s3.NewFromConfig(m.cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.Retryer = aws.NopRetryer{}
	})
	ready := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := probe.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err == nil
	}
	m.proc, err = startServer(cmd, ready, minioStartTimeout)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("failed to start minio on port %d: %w", port, err)
	}
	return m, nil
}

// withoutMinIOEnv drops a developer's own MINIO_* settings.
func withoutMinIOEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MINIO_") {
			out = append(out, kv)
		}
	}
	return out
}

// newMinIOServer builds the SDK client for endpoint by hand, as for moto,
// so a developer's own AWS settings never leak into tests.
func newMinIOServer(endpoint, secret string) *MinIOServer {
	cfg := aws.Config{
		Region:       minioRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(minioUser, secret, ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return &MinIOServer{Endpoint: endpoint, secret: secret, cfg: cfg, s3: awsstore.NewS3Client(cfg)}
}

// stopMinIO stops the server if one was started and removes its data.
func stopMinIO() {
	if m := minioServer; m != nil {
		if m.proc != nil {
			m.proc.stop()
		}
		if m.dir != "" {
			_ = os.RemoveAll(m.dir)
		}
	}
}

// Config returns an SDK configuration pointed at the server (S3 only).
func (m *MinIOServer) Config() aws.Config { return m.cfg.Copy() }

// S3 returns an S3 client (path-style) pointed at the server.
func (m *MinIOServer) S3() *s3.Client { return m.s3 }

// Env returns the environment a child process (prstate, terraform, tofu)
// needs to reach the server's S3 API, as KEY=value entries to append to
// os.Environ(). There is no DynamoDB endpoint.
func (m *MinIOServer) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=" + minioUser,
		"AWS_SECRET_ACCESS_KEY=" + m.secret,
		"AWS_REGION=" + minioRegion,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets Env in the test's own environment with t.Setenv (so the
// test cannot be parallel).
func (m *MinIOServer) Setenv(t testing.TB) {
	t.Helper()
	setenv(t, m.Env())
}

// NewBucket creates a uniquely named bucket, versioned or not, and returns
// its name.
func (m *MinIOServer) NewBucket(t testing.TB, versioned bool) string {
	t.Helper()
	return newBucket(t, m.s3, versioned)
}

// Bucket returns the bucket name on the server as a storage.Bucket.
func (m *MinIOServer) Bucket(t testing.TB, name string) storage.Bucket {
	t.Helper()
	return awsstore.NewBucket(m.s3, name)
}
