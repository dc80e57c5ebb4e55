package lockproof

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/prstate/prstate/internal/testenv"
)

// run runs prstate to the end and returns its exit code, stderr and how
// long it took.
func (w *world) run(t *testing.T, env []string, args ...string) (int, string, time.Duration) {
	t.Helper()
	p := w.start(t, env, args...)
	code := p.wait(t, 5*time.Minute)
	return code, p.stderr.String(), p.ended.Sub(p.started)
}

// tableWithoutLockID creates a table keyed by "id", not Terraform's LockID.
func tableWithoutLockID(t *testing.T, m *testenv.MotoServer) string {
	name := "prstate-test-wrong-key-" + strings.ReplaceAll(t.Name(), "/", "-")
	_, err := m.DynamoDB().CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          dynamotypes.BillingModePayPerRequest,
		AttributeDefinitions: []dynamotypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: dynamotypes.ScalarAttributeTypeS}},
		KeySchema:            []dynamotypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: dynamotypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPermanentErrorsExit2Fast: a missing bucket or table, a table of the
// wrong shape and rejected credentials end lock, run and status with exit
// 2 within 5 s and one human line, not a 30-minute wait ending in "timed
// out waiting"; the SDK's request IDs only with --debug.
func TestPermanentErrorsExit2Fast(t *testing.T) {
	cases := []struct {
		name, backend string
		env           func(w *world) []string
		want          string
	}{
		{"missing bucket, S3 lock", "s3", func(w *world) []string { return []string{"PRSTATE_BUCKET=no-such-bucket-prstate"} }, `S3 bucket "no-such-bucket-prstate" does not exist (region us-east-1)`},
		{"missing bucket, DynamoDB lock", "dynamodb", func(w *world) []string { return []string{"PRSTATE_BUCKET=no-such-bucket-prstate"} }, `S3 bucket "no-such-bucket-prstate" does not exist (region us-east-1)`},
		{"missing bucket, MinIO", "minio", func(w *world) []string { return []string{"PRSTATE_BUCKET=no-such-bucket-prstate"} }, `S3 bucket "no-such-bucket-prstate" does not exist (region us-east-1)`},
		{"missing table", "dynamodb", func(w *world) []string { return []string{"PRSTATE_DYNAMODB_TABLE=no-such-table"} }, `DynamoDB table "no-such-table" does not exist (region us-east-1)`},
		{"table without LockID", "dynamodb", func(w *world) []string {
			return []string{"PRSTATE_DYNAMODB_TABLE=" + tableWithoutLockID(t, w.moto)}
		}, "has no string partition key LockID"},
		{"wrong secret key", "minio", func(w *world) []string { return []string{"AWS_SECRET_ACCESS_KEY=not-the-secret"} }, "S3 rejected the request signature (SignatureDoesNotMatch): check the AWS secret access key"},
		{"wrong access key", "minio", func(w *world) []string { return []string{"AWS_ACCESS_KEY_ID=nobody"} }, "S3 rejected the AWS access key ID (InvalidAccessKeyId)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, c.backend)
			env := c.env(w)
			commands := [][]string{{"lock"}, {"run", "--", "true"}, {"status"}}
			if c.name == "table without LockID" {
				commands = commands[:2] // status only scans, which any key schema allows
			}
			for _, args := range commands {
				code, stderr, took := w.run(t, env, append(args, "--lock-timeout", "1m")...)
				if args[0] == "status" {
					code, stderr, took = w.run(t, env, args...)
				}
				t.Logf("%s: %s: exit %d in %s: %s", c.name, args[0], code, took.Round(time.Millisecond), strings.TrimSpace(stderr))
				if code != 2 || took > 5*time.Second {
					t.Errorf("%s: exit %d after %s, want 2 within 5s\n%s", args[0], code, took, stderr)
				}
				if !strings.Contains(stderr, c.want) {
					t.Errorf("%s: stderr lacks %q:\n%s", args[0], c.want, stderr)
				}
				if strings.Contains(stderr, "RequestID") || strings.Contains(stderr, "HostID") || strings.Contains(stderr, "timed out") {
					t.Errorf("%s: raw SDK text or a timeout:\n%s", args[0], stderr)
				}
			}
			_, stderr, _ := w.run(t, env, "lock", "--debug")
			if !strings.Contains(stderr, "debug:") || !strings.Contains(stderr, "RequestID") {
				t.Errorf("--debug shows no SDK detail:\n%s", stderr)
			}
		})
	}
}

// TestClosedPortHonoursLockTimeout: nothing listens where the store
// should be. The wait is retried and ends at --lock-timeout 10s, a hard
// bound (not 10 s plus whatever the SDK's retries take), with exit 3.
func TestClosedPortHonoursLockTimeout(t *testing.T) {
	for _, backend := range []string{"s3", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, backend)
			closed := "http://127.0.0.1:1"
			code, stderr, took := w.run(t, []string{"AWS_ENDPOINT_URL_S3=" + closed, "AWS_ENDPOINT_URL_DYNAMODB=" + closed}, "lock", "--lock-timeout", "10s")
			t.Logf("%s: exit %d after %s: %s", backend, code, took.Round(time.Millisecond), lastLines(stderr, 1))
			if code != 3 || took > 12*time.Second || took < 10*time.Second {
				t.Errorf("exit %d after %s, want 3 in 10-12s\n%s", code, took, stderr)
			}
			if !strings.Contains(stderr, "unreachable (failed to ") || strings.Contains(stderr, "RequestID") {
				t.Errorf("stderr:\n%s", stderr)
			}
		})
	}
}
