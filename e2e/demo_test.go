package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// The newcomer's command: `prstate demo` (go run . demo), in memory and,
// one flag away, against a real S3/DynamoDB API.
func TestDemo(t *testing.T) {
	bin := testenv.Binary(t)
	m := testenv.Moto(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"memory", []string{"demo"}},
		{"endpoint", []string{"demo", "--endpoint", m.Endpoint}},
		{"endpoint again", []string{"demo", "--endpoint", m.Endpoint}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/local/bin", "HOME=" + t.TempDir()}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("prstate demo: %v\n%s", err, out)
			}
			text := string(out)
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`pr-101 plan +plans on app/pr-101/terraform.tfstate`),
				regexp.MustCompile(`pr-102 plan +plans on app/pr-102/terraform.tfstate`),
				regexp.MustCompile(`apply B +applied: production serial 6`),
				regexp.MustCompile(`apply C +applied: production serial 7`),
				regexp.MustCompile(`apply A +superseded by a newer applied commit: skipped, lock released`),
				// The seeded PR state and its seed record (one version each).
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
			// Production's state and digest, the ledger, and the (empty)
			// waiters record the applies coalesced on: nothing of a PR.
			if strings.TrimSpace(left) != "dynamodb prstate-demo/app/terraform.tfstate-md5, dynamodb prstate-demo/app/terraform.tfstate.prstate-ledger, dynamodb prstate-demo/app/terraform.tfstate.prstate-waiters, s3://prstate-demo/app/terraform.tfstate" {
				t.Errorf("left in the backend: %q", left)
			}
		})
	}
}
