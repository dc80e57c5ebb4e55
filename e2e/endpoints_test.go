package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// TestEndpointsLikeTheBinary: the binary's S3 backend sends its requests
// to the block's endpoints even when AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL_DYNAMODB point elsewhere, and to those variables when
// the block names none. prstate goes where the binary goes: production's
// apply by the binary, then prstate's PR plan seeded from production,
// with the variables pointing at a proxy before moto that counts who
// reached it (the binary's User-Agent names it, prstate's does not).
func TestEndpointsLikeTheBinary(t *testing.T) {
	eachBinary(t, func(t *testing.T, cli testenv.TerraformCLI) {
		for _, tc := range []struct {
			name       string
			blockNames bool // the block names moto's endpoints
		}{{"block names the endpoints", true}, {"block names none", false}} {
			t.Run(tc.name, func(t *testing.T) {
				b := newBinStack(t, cli)
				decoy := testenv.NewFaultProxy(t, b.moto.Endpoint, testenv.Faults{})
				var mu sync.Mutex
				reached := map[string]int{}
				decoy.OnRequest = func(r *http.Request, _ []byte) {
					who := "prstate"
					if ua := r.UserAgent(); strings.Contains(ua, "Terraform") || strings.Contains(ua, "OpenTofu") {
						who = cli.Name
					}
					mu.Lock()
					defer mu.Unlock()
					reached[who]++
				}
				block := b.backendTF(prodKey)
				if !tc.blockNames {
					block = strings.Replace(block, "endpoints                   = { s3 = \""+b.moto.Endpoint+"\", dynamodb = \""+b.moto.Endpoint+"\" }\n", "", 1)
					if strings.Contains(block, "endpoints") {
						t.Fatalf("the block still names endpoints:\n%s", block)
					}
				}
				b.write("main.tf", block+"\n"+resourceApp)
				env := []string{"AWS_ENDPOINT_URL_S3=" + decoy.URL, "AWS_ENDPOINT_URL_DYNAMODB=" + decoy.URL}
				if got := b.applyWith(t.TempDir(), env); got != prodKey {
					t.Fatalf("%s recorded key %q", cli.Name, got)
				}
				b.extraEnv = env
				st := b.plan(map[string]string{"seed": "production"})
				if !strings.Contains(st.stderr, "seed") {
					t.Errorf("the PR plan did not seed from production:\n%s", st.stderr)
				}
				if _, ok := b.getObject(prKey42); !ok {
					t.Errorf("no PR state at %s", prKey42)
				}
				mu.Lock()
				defer mu.Unlock()
				t.Logf("requests through AWS_ENDPOINT_URL_*: %v", reached)
				if tc.blockNames && (reached[cli.Name] != 0 || reached["prstate"] != 0) {
					t.Errorf("the variables won over the block's endpoints: %v requests went through them (want none from %s and none from prstate)", reached, cli.Name)
				}
				if !tc.blockNames && (reached[cli.Name] == 0 || reached["prstate"] == 0) {
					t.Errorf("with a block naming no endpoints, %v requests went through the variables (want some from %s and some from prstate)", reached, cli.Name)
				}
			})
		}
	})
}
