package demo

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"testing"

	"github.com/prstate/prstate/internal/demotest"
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
	if !regexp.MustCompile(`setup +in-memory S3 bucket prstate-demo and DynamoDB table prstate-demo-locks`).MatchString(text) {
		t.Errorf("demo output lacks its in-memory setup:\n%s", text)
	}
	demotest.Check(t, text)
}
