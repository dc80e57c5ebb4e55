package e2e

import (
	"os/exec"
	"testing"

	"github.com/prstate/prstate/internal/demotest"
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
			demotest.Check(t, text)
		})
	}
}
