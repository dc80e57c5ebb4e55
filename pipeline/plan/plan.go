// Package plan is what the plan step prepares: the target (which state a
// run works on), the backend-config file for terraform init, and the seed
// of a new PR state from production. See ARCHITECTURE.md.
package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/ci"
)

// Target is the state a run works on: the PR key on a pull request event,
// the production key otherwise.
type Target struct {
	Key       string `json:"key"`                 // object key of the state in the bucket
	Workspace string `json:"workspace,omitempty"` // Terraform workspace under --isolation workspace
	PR        int    `json:"pr,omitempty"`
	IsPR      bool   `json:"is_pull_request"`
}

// ResolveTarget picks the state key for the event.
func ResolveTarget(st backend.Stack, ev ci.Event) (Target, error) {
	if !ev.IsPullRequest() {
		return Target{Key: st.Keys.Production}, nil
	}
	key, err := st.Keys.Render(ev.PR)
	if err != nil {
		return Target{}, err
	}
	return Target{Key: key, Workspace: st.Keys.Workspace(ev.PR), PR: ev.PR, IsPR: true}, nil
}

// BackendConfig renders the file passed to `terraform init -backend-config=FILE`.
// Under --isolation workspace the key stays production's: Terraform puts the
// workspace's state under <workspace_key_prefix>/<workspace>/ itself.
func BackendConfig(st backend.Stack, t Target) string {
	b := st.Backend
	key := t.Key
	if st.Keys.IsWorkspace() {
		key = st.Keys.Production
	}
	var s strings.Builder
	fmt.Fprintf(&s, "# written by prstate: terraform init -backend-config=<this file>\n")
	line := func(k, v string) { fmt.Fprintf(&s, "%-20s = %s\n", k, v) }
	line("bucket", hclQuote(b.Bucket))
	line("key", hclQuote(key))
	if b.Region != "" {
		line("region", hclQuote(b.Region))
	}
	if b.DynamoDBTable != "" {
		line("dynamodb_table", hclQuote(b.DynamoDBTable))
	}
	if b.UseLockfile {
		line("use_lockfile", "true")
	}
	if st.Keys.IsWorkspace() {
		if b.WorkspaceKeyPrefix != "" {
			line("workspace_key_prefix", hclQuote(b.WorkspaceKeyPrefix))
		}
		fmt.Fprintf(&s, "# workspace: %s (select it with TF_WORKSPACE=%s)\n", t.Workspace, t.Workspace)
	}
	return s.String()
}

// hclQuote quotes s as an HCL string literal. Go's quoting is HCL's except
// for template sequences: "${" and "%{" must be doubled, or terraform init
// reads them as interpolation ("Variables not allowed").
func hclQuote(s string) string {
	q := strconv.Quote(s)
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(q)
}
