package cleanuptest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/cleanup"
)

// largeState is a valid Terraform state of n bytes with one managed
// resource the seed did not bring (applied to), padded in an output.
func largeState(n int) []byte {
	head := `{"version":4,"terraform_version":"1.11.4","serial":9,"lineage":"` + cleanuptest.Lineage + `","outputs":{"pad":{"value":"`
	tail := `","type":"string"}},"resources":[{"mode":"managed","type":"terraform_data","name":"pr_only","provider":"provider[\"terraform.io/builtin/terraform\"]","instances":[]}],"check_results":null}`
	b := make([]byte, 0, n)
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte("x"), n-len(head)-len(tail))...)
	return append(b, tail...)
}

// sweepRSS runs the built binary's sweep against moto and returns its exit
// code, output and peak resident set in bytes: VmHWM of /proc/<pid>/status,
// sampled every 5 ms until it exits. (getrusage's ru_maxrss would not do:
// Go starts children with vfork, and execve keeps the high-water mark of
// the parent's memory, this test's 1 GiB body included.)
func sweepRSS(t *testing.T, m *testenv.MotoServer, bucket string) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "sweep", "--bucket", bucket, "--key", cleanuptest.Prod, "--older-than", "1s")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, m.Env()...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(status); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					peak = max(peak, kb*1024)
				}
			}
		}
		select {
		case err := <-done:
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if peak == 0 {
				t.Fatal("no VmHWM sample of the sweep")
			}
			return code, out.String(), peak
		case <-tick.C:
		}
	}
}

// TestSweepLargePRStateBoundedMemory: a 1 GiB PR state (a PR job can write
// one) is refused by its listed size, never read: the sweep binary's peak
// RSS stays under 100 MB, the state is kept and reported. A state just
// under MaxStateRead is read and judged (applied to: kept); the peak RSS of
// that sweep is measured too.
func TestSweepLargePRStateBoundedMemory(t *testing.T) {
	testenv.SkipShort(t, "uploads 1 GiB to moto and builds the binary")
	m := testenv.Moto(t)
	bucket := m.NewBucket(t, true)
	s := cleanuptest.Store{Bucket: m.Bucket(t, bucket)}
	st := cleanuptest.Stack(t, s, false, false, false)
	cleanuptest.Production(t, s)
	ctx := context.Background()
	put := func(key string, body []byte) {
		t.Helper()
		start := time.Now()
		if _, err := m.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}); err != nil {
			t.Fatalf("put %s (%d bytes): %v", key, len(body), err)
		}
		t.Logf("put %s: %d bytes in %s", key, len(body), time.Since(start).Round(time.Millisecond))
	}
	huge, _ := st.Keys.Render(9)
	put(huge, largeState(1<<30))
	debug.FreeOSMemory()
	time.Sleep(1100 * time.Millisecond) // --older-than 1s

	code, out, rss := sweepRSS(t, m, bucket)
	t.Logf("sweep of a 1 GiB PR state: exit %d, peak RSS %.1f MB", code, float64(rss)/1e6)
	if code != 0 || !strings.Contains(out, "MaxStateRead") || !strings.Contains(out, huge) {
		t.Fatalf("exit %d, want 0 with the state kept as too large:\n%s", code, out)
	}
	if rss >= 100e6 {
		t.Fatalf("peak RSS %d bytes, want under 100 MB", rss)
	}
	if _, err := s.Bucket.ListObjectVersions(ctx, huge); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.Bucket.ListObjectVersions(ctx, huge); len(vs) == 0 || vs[0].Size != 1<<30 {
		t.Fatalf("the 1 GiB state is gone: %+v", vs)
	}

	// Just under the limit: read, parsed, found applied to, kept.
	atLimit, _ := st.Keys.Render(8)
	put(atLimit, largeState(cleanup.MaxStateRead))
	time.Sleep(1100 * time.Millisecond)
	code, out, rss = sweepRSS(t, m, bucket)
	t.Logf("sweep of a %d MiB PR state (read) and the 1 GiB one (refused): exit %d, peak RSS %.1f MB", cleanup.MaxStateRead>>20, code, float64(rss)/1e6)
	if code != 0 || !strings.Contains(out, "terraform_data.pr_only") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if rss >= 100e6 {
		t.Fatalf("peak RSS %d bytes reading a state at the limit, want under 100 MB", rss)
	}
}
