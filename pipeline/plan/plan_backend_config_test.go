package plan

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/statekey"
)

// The backend-config file is HCL: what terraform init reads back must be
// the key prstate means, even where the key holds HCL template sequences
// ("${", "%{"), quotes, backslashes or non-ASCII characters.
func TestBackendConfigRoundTripsThroughHCL(t *testing.T) {
	t.Parallel()
	for _, prod := range []string{"app/terraform.tfstate", "app/${env}/terraform.tfstate", "app/100%{x}/t.tfstate", `a"b\c/tf.tfstate`, "équipe/état.tfstate", "app/$${x}/t.tfstate"} {
		keys, err := statekey.NewWorkspaceKeys(prod, "")
		if err != nil {
			t.Fatal(err)
		}
		st := statekey.Stack{Backend: backend.Backend{Bucket: "acme-state", Region: "eu-west-1"}, Keys: keys}
		src := BackendConfig(st, Target{Key: "env:/pr-1/" + prod, Workspace: "pr-1", PR: 1, IsPR: true})
		f, diags := hclsyntax.ParseConfig([]byte(src), "prstate.s3.tfbackend", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %s\n%s", prod, diags.Error(), src)
		}
		attrs, diags := f.Body.JustAttributes()
		if diags.HasErrors() {
			t.Fatalf("%q: %s", prod, diags.Error())
		}
		// terraform evaluates the file without variables, as here.
		v, diags := attrs["key"].Expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%q: key does not evaluate: %s\n%s", prod, diags.Error(), src)
		}
		if v.AsString() != prod {
			t.Errorf("key reads back as %q, want %q\n%s", v.AsString(), prod, src)
		}
	}
}
