package testenv

import (
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
)

// fakeTB records how Require ends a test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runFake runs fn with a fakeTB on a goroutine of its own, as Goexit needs.
func runFake(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestToolMissing(t *testing.T) {
	checkToolMissing(t, Tool, "prstate-no-such-tool not found on PATH", "prstate-no-such-tool not found on PATH")
}

// checkToolMissing: look (Tool or GoTool) skips the test without CI and
// fails it with CI=true when the tool is missing, saying skip and fail.
func checkToolMissing(t *testing.T, look func(testing.TB, string) string, skip, fail string) {
	t.Helper()
	t.Setenv("CI", "")
	f := runFake(func(tb testing.TB) { look(tb, "prstate-no-such-tool") })
	if f.failed != "" || !strings.Contains(f.skipped, skip) {
		t.Fatalf("without CI: skipped %q, failed %q; want a skip", f.skipped, f.failed)
	}
	t.Setenv("CI", "true")
	f = runFake(func(tb testing.TB) { look(tb, "prstate-no-such-tool") })
	if f.skipped != "" || !strings.Contains(f.failed, fail) {
		t.Fatalf("with CI=true: skipped %q, failed %q; want a failure", f.skipped, f.failed)
	}
}

func TestToolFound(t *testing.T) {
	want, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if got := Tool(t, "sh"); got != want {
		t.Fatalf("Tool(sh) = %q, want %q", got, want)
	}
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// checkNewBucket: srv's NewBucket makes two valid, distinct names, the
// versioned one with versioning enabled and the other without; it
// returns the versioned one.
func checkNewBucket(t *testing.T, srv S3Server) string {
	t.Helper()
	a, b := srv.NewBucket(t, true), srv.NewBucket(t, false)
	if a == b || !bucketName.MatchString(a) || !bucketName.MatchString(b) {
		t.Fatalf("bucket names %q %q", a, b)
	}
	for name, want := range map[string]string{a: "Enabled", b: ""} {
		out, err := srv.S3().GetBucketVersioning(t.Context(), &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Status) != want {
			t.Fatalf("bucket %s versioning %q, want %q", name, out.Status, want)
		}
	}
	return a
}

func TestMoto(t *testing.T) {
	m := Moto(t)
	if m2 := Moto(t); m2 != m {
		t.Fatal("Moto started a second server")
	}
	if !strings.HasPrefix(m.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q", m.Endpoint)
	}
	env := m.Env()
	for _, want := range []string{
		"AWS_ENDPOINT_URL_S3=" + m.Endpoint, "AWS_ENDPOINT_URL_DYNAMODB=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("Env() lacks %s", want)
		}
	}

	a := checkNewBucket(t, m)
	if _, err := m.Bucket(t, a).PutObject(t.Context(), "k", []byte("v"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	table := m.NewTable(t)
	out, err := m.DynamoDB().DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	ks := out.Table.KeySchema
	if len(ks) != 1 || aws.ToString(ks[0].AttributeName) != storage.KeyAttr || ks[0].KeyType != "HASH" {
		t.Fatalf("key schema %+v", ks)
	}
	if out.Table.BillingModeSummary == nil || out.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		t.Fatalf("billing %+v", out.Table.BillingModeSummary)
	}
	if err := m.Table(t, table).PutItem(t.Context(), storage.Item{storage.KeyAttr: "x"}, storage.Condition{Absent: true}); err != nil {
		t.Fatal(err)
	}
}

func TestMotoEnvForChildProcess(t *testing.T) {
	m := Moto(t)
	m.Setenv(t)
	out, err := exec.Command("sh", "-c", `echo "$AWS_ENDPOINT_URL_S3 $AWS_REGION"`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), m.Endpoint+" us-east-1"; got != want {
		t.Fatalf("child sees %q, want %q", got, want)
	}
}
