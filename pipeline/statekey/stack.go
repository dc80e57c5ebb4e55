package statekey

import "github.com/prstate/prstate/pipeline/backend"

// Stack is one Terraform root module: its directory, its resolved backend
// and its key scheme. It lives with the keys because it is complete only
// once they are built (backend -> key): backend imports nothing of keys.
type Stack struct {
	Dir      string
	Backend  backend.Backend
	Keys     Keys
	Resolved *backend.Resolved // nil for a Stack built by hand: see Config
}

// Config is the stack's resolved backend configuration (from its Backend
// when it was built by hand).
func (st Stack) Config() *backend.Resolved {
	if st.Resolved != nil {
		return st.Resolved
	}
	return backend.FromBackend(st.Backend)
}
