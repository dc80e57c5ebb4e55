package lockproof

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const stateKey = "app/terraform.tfstate"

// world is one production state, locked through S3 on moto ("s3"),
// DynamoDB on moto ("dynamodb") or S3 on MinIO ("minio").
type world struct {
	t        testing.TB
	bin      string
	srv      testenv.S3Server // where the bucket is
	moto     *testenv.MotoServer
	bucket   string
	table    string // "" for the S3 lock
	upstream string // the server, for proxies of a test's own
	endpoint string // a proxy in front of it
	dir      string
	env      []string // extra KEY=value
	proxy    *testenv.FaultProxy
}

// backends are the lock stores every proof runs on.
var backends = []string{"s3", "dynamodb", "minio"}

func newWorld(t testing.TB, backend string) *world {
	t.Helper()
	return newWorldVersioned(t, backend, true)
}

// newWorldVersioned chooses the bucket's versioning. moto keeps every
// version of the lock object and slows down as they pile up (real S3
// does not), so the long contention runs use an unversioned bucket.
func newWorldVersioned(t testing.TB, backend string, versioned bool) *world {
	t.Helper()
	w := &world{t: t, bin: testenv.Binary(t), dir: t.TempDir()}
	if backend == "minio" {
		// MinIO executes conditional writes atomically: its proxy only
		// counts requests.
		m := testenv.MinIO(t)
		w.srv, w.upstream, w.bucket = m, m.Endpoint, m.NewBucket(t, versioned)
		w.proxy = testenv.NewFaultProxy(t, m.Endpoint, testenv.Faults{})
		w.endpoint = w.proxy.URL
		return w
	}
	m := testenv.Moto(t)
	// prstate talks to moto through a proxy that serializes requests:
	// moto's conditional writes are not atomic under concurrency (see
	// testenv.Faults.Serialize); S3's and DynamoDB's are.
	w.srv, w.moto, w.upstream, w.bucket = m, m, m.Endpoint, m.NewBucket(t, versioned)
	w.proxy = testenv.NewFaultProxy(t, m.Endpoint, testenv.Faults{Serialize: true})
	w.endpoint = w.proxy.URL
	if backend == "dynamodb" {
		w.table = m.NewTable(t)
	}
	return w
}

// baseEnv is the process environment without anything that would make
// prstate think it runs in CI or point it at other AWS settings.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GITHUB_"), strings.HasPrefix(k, "GITLAB"), strings.HasPrefix(k, "PRSTATE_"),
			strings.HasPrefix(k, "INPUT_"), strings.HasPrefix(k, "STATE_"), strings.HasPrefix(k, "AWS_"), k == "CI":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (w *world) environ() []string {
	env := append(baseEnv(), w.srv.Env()...) // credentials and region
	env = append(env,
		"AWS_ENDPOINT_URL_S3="+w.endpoint, "AWS_ENDPOINT_URL_DYNAMODB="+w.endpoint,
		"PRSTATE_BUCKET="+w.bucket, "PRSTATE_KEY="+stateKey, "PRSTATE_LOCK_POLL=300ms")
	if w.table != "" {
		env = append(env, "PRSTATE_DYNAMODB_TABLE="+w.table)
	}
	return append(env, w.env...)
}

// prstate returns a prstate command in the world's directory.
func (w *world) prstate(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Dir = w.dir
	cmd.Env = w.environ()
	return cmd
}

// output runs prstate and returns stdout, failing the test on an exit
// other than want.
func (w *world) output(want int, args ...string) (string, string) {
	w.t.Helper()
	var out, errb bytes.Buffer
	cmd := w.prstate(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("prstate %v: %v", args, err)
	}
	if code != want {
		w.t.Fatalf("prstate %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// lockStore reads the apply lock directly on the server (never through
// a proxy).
func (w *world) lockStore() applylock.LockStore {
	if w.table != "" {
		return applylock.NewDynamoDBLockStore(w.moto.Table(w.t, w.table), statekey.ApplyLockItemID(w.bucket, stateKey))
	}
	return applylock.NewS3LockStore(w.srv.Bucket(w.t, w.bucket), statekey.ApplyLockKey(stateKey))
}

// holder reads the current holder record; ok false when the lock is free.
func (w *world) holder(ctx context.Context) (applylock.Record, bool) {
	w.t.Helper()
	obs, err := w.lockStore().Read(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return applylock.Record{}, false
	}
	if err != nil {
		w.t.Fatalf("read lock: %v", err)
	}
	rec, err := applylock.ParseRecord(obs.Body)
	if err != nil {
		w.t.Fatalf("parse lock: %v", err)
	}
	return rec, true
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
	return time.Time{}
}
