package awsstore_test

import (
	"testing"

	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

func TestNewS3ClientPathStyle(t *testing.T) {
	for _, tc := range []struct {
		name, env, value string
		want             bool
	}{
		{"no endpoint", "", "", false},
		{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000", true},
		{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL", "http://127.0.0.1:9000", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
				t.Setenv(k, "")
			}
			t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
			if tc.env != "" {
				t.Setenv(tc.env, tc.value)
			}
			cfg, err := awsstore.Config(t.Context(), "eu-west-1")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != "eu-west-1" {
				t.Fatalf("region %q, want the explicit eu-west-1", cfg.Region)
			}
			o := awsstore.NewS3Client(cfg).Options()
			if o.UsePathStyle != tc.want {
				t.Fatalf("UsePathStyle = %v, want %v", o.UsePathStyle, tc.want)
			}
		})
	}
}

func TestConfigRegionFromEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "ap-south-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	cfg, err := awsstore.Config(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "ap-south-1" {
		t.Fatalf("region %q, want ap-south-1 from AWS_REGION", cfg.Region)
	}
}

// TestConfigRetries: 8 attempts per request, unless AWS_MAX_ATTEMPTS says otherwise.
func TestConfigRetries(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "")
	cfg, err := awsstore.Config(t.Context(), "")
	if err != nil || cfg.RetryMaxAttempts != 8 {
		t.Fatalf("RetryMaxAttempts %d, %v; want 8", cfg.RetryMaxAttempts, err)
	}
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	cfg, err = awsstore.Config(t.Context(), "")
	if err != nil || cfg.RetryMaxAttempts != 2 {
		t.Fatalf("with AWS_MAX_ATTEMPTS=2: RetryMaxAttempts %d, %v", cfg.RetryMaxAttempts, err)
	}
}
