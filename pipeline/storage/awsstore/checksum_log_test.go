package awsstore_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// Reading an object whose response carries no checksum (as moto and some
// S3-compatible servers answer for a state file) must not make the SDK log
// "Response has no supported checksum" to stderr, which is prstate's own
// progress and diagnostics. Both ways the CLI builds its S3 client are
// checked: endpoint from the environment and endpoint from the backend block.
func TestNoChecksumLogOnGet(t *testing.T) {
	m := testenv.Moto(t)
	bucket := m.NewBucket(t, true)
	body := bytes.Repeat([]byte(`{"version":4}`), 300)
	// The CLI's configuration: the SDK default chain (checksums when supported).
	m.Setenv(t)
	cfg, err := awsstore.Config(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cfg.Logger = logging.NewStandardLogger(&log)
	clients := map[string]*s3.Client{
		"endpoint from the environment":   awsstore.NewS3Client(cfg),
		"endpoint from the backend block": awsstore.NewS3ClientAt(cfg, m.Endpoint),
	}
	for name, c := range clients {
		b := awsstore.NewBucket(c, bucket)
		if _, err := b.PutObject(t.Context(), name, body, storage.PutOptions{IfNoneMatch: true}); err != nil {
			t.Fatal(err)
		}
		log.Reset()
		obj, err := b.GetObject(t.Context(), name)
		if err != nil || !bytes.Equal(obj.Body, body) {
			t.Fatalf("%s: GetObject %d bytes, %v", name, len(obj.Body), err)
		}
		if log.Len() != 0 {
			t.Errorf("%s: the SDK logged: %s", name, log.String())
		}
	}
}
