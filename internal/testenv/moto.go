package testenv

import (
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

const (
	motoRegion       = "us-east-1"
	motoStartTimeout = 60 * time.Second
	motoStartTries   = 3
)

// MotoServer is a moto_server shared by every test in the binary. It runs
// until the test binary exits (it is started with Pdeathsig: SIGKILL).
type MotoServer struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string

	cfg      aws.Config
	s3       *s3.Client
	dynamodb *dynamodb.Client
	stop     func()
}

var (
	motoOnce   sync.Once
	motoServer *MotoServer
	motoErr    error
)

// Moto returns the test binary's moto server, starting it on first use on
// a free loopback port and waiting until it answers. Without moto_server
// on PATH the test is skipped (failed when CI=true; see Require).
func Moto(t testing.TB) *MotoServer {
	t.Helper()
	SkipShort(t, "moto")
	path := Tool(t, "moto_server")
	motoOnce.Do(func() { motoServer, motoErr = startMoto(path) })
	if motoErr != nil {
		t.Fatalf("failed to start moto_server: %v", motoErr)
	}
	return motoServer
}

// startMoto starts moto_server, retrying on a new port when it exits early
// (another process may have taken the port in between).
func startMoto(path string) (*MotoServer, error) {
	var errs []error
	for range motoStartTries {
		endpoint, stop, err := launchMoto(path)
		if err == nil {
			m := newMotoServer(endpoint)
			m.stop = stop
			return m, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// launchMoto starts one moto_server and waits until it answers HTTP. stop
// kills its process group and reaps it.
func launchMoto(path string) (endpoint string, stop func(), err error) {
	return launchMotoCmd(path, nil)
}

// launchMotoCmd is launchMoto with setup, when not nil, applied to the
// command before it starts.
func launchMotoCmd(path string, setup func(*exec.Cmd)) (endpoint string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if setup != nil {
		setup(cmd)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	p, err := startServer(cmd, func() bool { return motoAnswers(client, endpoint) }, motoStartTimeout)
	if err != nil {
		return "", nil, fmt.Errorf("failed to start moto_server on port %d: %w", port, err)
	}
	return endpoint, p.stop, nil
}

// motoAnswers reports whether the server at endpoint answers HTTP.
func motoAnswers(client *http.Client, endpoint string) bool {
	resp, err := client.Get(endpoint + "/moto-api/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 500
}

// newMotoServer builds SDK clients pointed at endpoint. The configuration
// is built by hand, not from the process environment, so a developer's own
// AWS settings never leak into tests.
func newMotoServer(endpoint string) *MotoServer {
	cfg := aws.Config{
		Region:       motoRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return &MotoServer{
		Endpoint: endpoint,
		cfg:      cfg,
		s3:       awsstore.NewS3Client(cfg),
		dynamodb: awsstore.NewDynamoDBClient(cfg),
	}
}

// Main runs the tests of a package that uses Moto and then stops the
// server and reaps it. Use it as
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// It is optional: without it the server is killed when the test binary
// exits (Pdeathsig), but may linger as a zombie where PID 1 does not reap,
// and the prstate binary built by Binary and MinIO's data directory stay
// in the temp directory.
func Main(m *testing.M) {
	defer removeBinary()
	defer removeSlowProvider()
	defer stopMoto()
	defer stopMinIO()
	m.Run()
}

// stopMoto stops the server if one was started.
func stopMoto() {
	if motoServer != nil && motoServer.stop != nil {
		motoServer.stop()
	}
}

// Config returns an SDK configuration pointed at the server.
func (m *MotoServer) Config() aws.Config { return m.cfg.Copy() }

// S3 returns an S3 client (path-style) pointed at the server.
func (m *MotoServer) S3() *s3.Client { return m.s3 }

// DynamoDB returns a DynamoDB client pointed at the server.
func (m *MotoServer) DynamoDB() *dynamodb.Client { return m.dynamodb }

// Env returns the environment a child process (prstate, terraform) needs
// to talk to the server, as KEY=value entries to append to os.Environ().
func (m *MotoServer) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + m.Endpoint,
		"AWS_ENDPOINT_URL_DYNAMODB=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=" + motoRegion,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets Env in the test's own environment with t.Setenv (so the
// test cannot be parallel).
func (m *MotoServer) Setenv(t testing.TB) {
	t.Helper()
	setenv(t, m.Env())
}
