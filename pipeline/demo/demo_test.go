package demo

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/cli"
	"github.com/prstate/prstate/pipeline/clock"
)

// The in-memory demo, in process: both PRs plan on their own keys, B and C
// apply in turn, A is superseded, cleanup leaves nothing of a PR.
func TestDemoInMemory(t *testing.T) {
	testenv.Tool(t, "git")
	var out bytes.Buffer
	app := &cli.App{
		Env: func(string) string { return "" }, Stdout: &out, Stderr: io.Discard, FS: os.DirFS("/"),
		ReadFile: os.ReadFile, Clock: clock.Real,
	}
	if err := Run(context.Background(), app, ""); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`setup +in-memory S3 bucket prstate-demo and DynamoDB table prstate-demo-locks`),
		regexp.MustCompile(`pr-101 plan +plans on app/pr-101/terraform.tfstate`),
		regexp.MustCompile(`pr-102 plan +plans on app/pr-102/terraform.tfstate`),
		regexp.MustCompile(`apply B +applied: production serial 6`),
		regexp.MustCompile(`apply C +applied: production serial 7`),
		regexp.MustCompile(`apply A +superseded by a newer applied commit: skipped, lock released`),
		regexp.MustCompile(`pr-101 cleanup +removed the PR state: 2 object versions`),
		regexp.MustCompile(`pr-102 cleanup +removed the PR state: 2 object versions`),
	} {
		if !want.MatchString(text) {
			t.Errorf("demo output lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, "apply A          applied") {
		t.Errorf("the superseded commit applied:\n%s", text)
	}
	left := text[strings.LastIndex(text, "left in the backend: ")+len("left in the backend: "):]
	if strings.TrimSpace(left) != "dynamodb prstate-demo/app/terraform.tfstate-md5, dynamodb prstate-demo/app/terraform.tfstate.prstate-ledger, dynamodb prstate-demo/app/terraform.tfstate.prstate-waiters, s3://prstate-demo/app/terraform.tfstate" {
		t.Errorf("left in the backend: %q", left)
	}
}
