// Package backend is the backend configuration of a root module: its
// backend "s3" block, and the Stack (directory, backend, key scheme) every
// command works on. See ARCHITECTURE.md.
package backend

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/usage"
)

// Backend is what prstate reads of a `backend "s3"` block (and what flags,
// env and action inputs may set instead).
type Backend struct {
	Bucket             string
	Key                string
	Region             string
	DynamoDBTable      string
	UseLockfile        bool
	WorkspaceKeyPrefix string
	EndpointS3         string
	EndpointDynamoDB   string
}

// Read parses the *.tf files of dir in fsys and returns the settings
// of its `terraform { backend "s3" { ... } }` block; found is false when
// there is none. Values that are not literals are ignored (Terraform
// forbids variables there anyway).
func Read(fsys fs.FS, dir string) (b Backend, found bool, err error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return Backend{}, false, usage.Errorf("cannot read working directory %s: %v", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".tf") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		file := path.Join(dir, name)
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return Backend{}, false, fmt.Errorf("failed to read %s: %w", file, err)
		}
		f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
		if diags.HasErrors() {
			return Backend{}, false, usage.Errorf("cannot parse %s: %s", file, diags.Error())
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, tf := range body.Blocks {
			if tf.Type != "terraform" {
				continue
			}
			for _, be := range tf.Body.Blocks {
				if be.Type == "backend" && len(be.Labels) == 1 && be.Labels[0] == "s3" {
					return backendFromBlock(be.Body), true, nil
				}
			}
		}
	}
	return Backend{}, false, nil
}

func backendFromBlock(body *hclsyntax.Body) Backend {
	var b Backend
	str := func(name string) string {
		v := attrValue(body, name)
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			return v.AsString()
		}
		return ""
	}
	b.Bucket, b.Key, b.Region = str("bucket"), str("key"), str("region")
	b.DynamoDBTable, b.WorkspaceKeyPrefix = str("dynamodb_table"), str("workspace_key_prefix")
	if v := attrValue(body, "use_lockfile"); v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() {
		b.UseLockfile = v.True()
	}
	// Terraform >= 1.6: endpoints = { s3 = "...", dynamodb = "..." }; older: endpoint, dynamodb_endpoint.
	if v := attrValue(body, "endpoints"); v.IsKnown() && !v.IsNull() && (v.Type().IsObjectType() || v.Type().IsMapType()) {
		m := v.AsValueMap()
		if s, ok := m["s3"]; ok && s.Type() == cty.String && s.IsKnown() && !s.IsNull() {
			b.EndpointS3 = s.AsString()
		}
		if s, ok := m["dynamodb"]; ok && s.Type() == cty.String && s.IsKnown() && !s.IsNull() {
			b.EndpointDynamoDB = s.AsString()
		}
	}
	if b.EndpointS3 == "" {
		b.EndpointS3 = str("endpoint")
	}
	if b.EndpointDynamoDB == "" {
		b.EndpointDynamoDB = str("dynamodb_endpoint")
	}
	return b
}

func attrValue(body *hclsyntax.Body, name string) cty.Value {
	attr, ok := body.Attributes[name]
	if !ok {
		return cty.NilVal
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal
	}
	return v
}

// Stack is one Terraform root module: its backend and its key scheme.
type Stack struct {
	Dir     string
	Backend Backend
	Keys    statekey.Keys
}
