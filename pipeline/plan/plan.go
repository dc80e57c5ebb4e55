// Package plan is what the plan step prepares: the target (which state a
// run works on), the backend-config file for terraform init, and the seed
// of a new PR state from production. See ARCHITECTURE.md.
package plan

import (
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/statekey"
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
func ResolveTarget(st statekey.Stack, ev ci.Event) (Target, error) {
	if !ev.IsPullRequest() {
		return Target{Key: st.Keys.Production}, nil
	}
	key, err := st.Keys.Render(ev.PR)
	if err != nil {
		return Target{}, err
	}
	return Target{Key: key, Workspace: st.Keys.Workspace(ev.PR), PR: ev.PR, IsPR: true}, nil
}

// BackendConfig renders the file passed to `terraform init -backend-config=FILE`:
// every setting of the stack's resolved production backend (endpoints,
// locking, encryption, credentials settings, ...) with the key setting
// replaced by the target's, so init needs no other file. Under --isolation
// workspace the key stays production's: Terraform puts the workspace's
// state under <workspace_key_prefix>/<workspace>/ itself. Outside the
// default workspace the key setting is the target's object key without
// the workspace's prefix (the selected workspace stays selected).
func BackendConfig(st statekey.Stack, t Target) string {
	return string(st.Config().PRFile(KeySetting(st, t), t.Workspace))
}

// KeySetting is the key argument of the target's backend file.
func KeySetting(st statekey.Stack, t Target) string {
	r := st.Config()
	if st.Keys.IsWorkspace() {
		return r.KeyFor(st.Keys.Production)
	}
	return r.KeyFor(t.Key)
}
