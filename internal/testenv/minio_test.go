package testenv

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

func TestMinIO(t *testing.T) {
	m := MinIO(t)
	if m2 := MinIO(t); m2 != m {
		t.Fatal("MinIO started a second server")
	}
	if !strings.HasPrefix(m.Endpoint, "http://127.0.0.1:") || m.Endpoint == Moto(t).Endpoint {
		t.Fatalf("endpoint %q", m.Endpoint)
	}
	env := m.Env()
	for _, want := range []string{
		"AWS_ENDPOINT_URL_S3=" + m.Endpoint, "AWS_ACCESS_KEY_ID=" + minioUser, "AWS_SECRET_ACCESS_KEY=" + m.secret,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("Env() lacks %s", want)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_DYNAMODB=") {
			t.Errorf("Env() has %s; MinIO has no DynamoDB", kv)
		}
	}

	a := checkNewBucket(t, m)
	bkt := m.Bucket(t, a)
	if _, err := bkt.PutObject(t.Context(), "k", []byte("v"), storage.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := bkt.PutObject(t.Context(), "k", []byte("v"), storage.PutOptions{IfNoneMatch: true}); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("second create: %v, want ErrPrecondition", err)
	}
	if obj, err := bkt.GetObject(t.Context(), "k"); err != nil || string(obj.Body) != "v" {
		t.Fatalf("GetObject: %v", err)
	}
}

// TestS3FlavorsEnv: with a server's Env, the SDK's default chain and
// prstate's own client constructor reach it, as in a child process.
func TestS3FlavorsEnv(t *testing.T) {
	for _, f := range S3Flavors() {
		t.Run(f.Name, func(t *testing.T) {
			srv := f.Start(t)
			if srv.Name() != f.Name {
				t.Fatalf("Name() = %q", srv.Name())
			}
			bucket := srv.NewBucket(t, false)
			srv.Setenv(t)
			cfg, err := config.LoadDefaultConfig(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			c := awsstore.NewS3Client(cfg)
			if _, err := c.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatalf("HeadBucket with the default chain and Env: %v", err)
			}
		})
	}
}
