package backend

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/prstate/prstate/pipeline/usage"
)

// files builds a working directory "infra" in a MapFS.
func files(kv ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		fsys["infra/"+kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	if len(kv) == 0 {
		fsys["infra/README.md"] = &fstest.MapFile{Data: []byte("x")}
	}
	return fsys
}

func opts(fsys fstest.MapFS) Options { return Options{FS: fsys, Dir: "infra"} }

func mustResolve(t *testing.T, o Options) *Resolved {
	t.Helper()
	r, err := Resolve(o)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return r
}

// resolveError expects a *usage.Error (exit 2) containing want.
func resolveError(t *testing.T, o Options, want string) {
	t.Helper()
	r, err := Resolve(o)
	var ce *usage.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Resolve: got %v (%v), want a usage error with %q", err, r, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

// want checks settings as name -> "value @ source".
func want(t *testing.T, r *Resolved, exp map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, n := range r.Names() {
		got[n] = RenderValue(r.Value(n), AsHCL) + " @ " + r.Source(n)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("settings:\n got %v\nwant %v", got, exp)
	}
}

const fullBlock = `terraform {
  required_version = ">= 1.6"
  backend "s3" {
    bucket                      = "acme-state"
    key                         = "app/terraform.tfstate"
    region                      = "eu-west-1"
    endpoints                   = { s3 = "http://127.0.0.1:9000", dynamodb = "http://127.0.0.1:9001" }
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    skip_s3_checksum            = true
    encrypt                     = true
    kms_key_id                  = "alias/state"
    acl                         = "bucket-owner-full-control"
    profile                     = "ci"
    shared_config_files         = ["/etc/aws/config"]
    workspace_key_prefix        = "workspaces"
    use_lockfile                = true
    dynamodb_table              = "tf-locks"
    max_retries                 = 5
    assume_role = {
      role_arn     = "arn:aws:iam::123456789012:role/state"
      session_name = "ci"
      tags         = { team = "infra" }
    }
    some_future_argument = "kept"
  }
}

resource "terraform_data" "a" {
  input = "a"
}
`

// TestBlockKeepsEveryArgument: every argument of the block is kept with
// its type and its file:line, unknown ones included.
func TestBlockKeepsEveryArgument(t *testing.T) {
	r := mustResolve(t, opts(files("main.tf", fullBlock, "vars.tf", `variable "x" {}`)))
	want(t, r, map[string]string{
		"bucket":                      `"acme-state" @ infra/main.tf:4`,
		"key":                         `"app/terraform.tfstate" @ infra/main.tf:5`,
		"region":                      `"eu-west-1" @ infra/main.tf:6`,
		"endpoints":                   `{ dynamodb = "http://127.0.0.1:9001", s3 = "http://127.0.0.1:9000" } @ infra/main.tf:7`,
		"use_path_style":              `true @ infra/main.tf:8`,
		"skip_credentials_validation": `true @ infra/main.tf:9`,
		"skip_requesting_account_id":  `true @ infra/main.tf:10`,
		"skip_metadata_api_check":     `true @ infra/main.tf:11`,
		"skip_region_validation":      `true @ infra/main.tf:12`,
		"skip_s3_checksum":            `true @ infra/main.tf:13`,
		"encrypt":                     `true @ infra/main.tf:14`,
		"kms_key_id":                  `"alias/state" @ infra/main.tf:15`,
		"acl":                         `"bucket-owner-full-control" @ infra/main.tf:16`,
		"profile":                     `"ci" @ infra/main.tf:17`,
		"shared_config_files":         `["/etc/aws/config"] @ infra/main.tf:18`,
		"workspace_key_prefix":        `"workspaces" @ infra/main.tf:19`,
		"use_lockfile":                `true @ infra/main.tf:20`,
		"dynamodb_table":              `"tf-locks" @ infra/main.tf:21`,
		"max_retries":                 `5 @ infra/main.tf:22`,
		"assume_role":                 `{ role_arn = "arn:aws:iam::123456789012:role/state", session_name = "ci", tags = { team = "infra" } } @ infra/main.tf:23`,
		"some_future_argument":        `"kept" @ infra/main.tf:28`,
	})
	if r.Block() != "infra/main.tf:3" || r.Binary() != Terraform {
		t.Errorf("block %q binary %q", r.Block(), r.Binary())
	}
	if r.EndpointS3() != "http://127.0.0.1:9000" || r.EndpointDynamoDB() != "http://127.0.0.1:9001" || !r.UsePathStyle() {
		t.Errorf("endpoints %q %q path style %v", r.EndpointS3(), r.EndpointDynamoDB(), r.UsePathStyle())
	}
	if r.Bucket() != "acme-state" || r.Key() != "app/terraform.tfstate" || r.Region() != "eu-west-1" || r.DynamoDBTable() != "tf-locks" || !r.UseLockfile() || !r.Encrypt() || r.KMSKeyID() != "alias/state" {
		t.Errorf("typed getters: %q %q %q %q %v", r.Bucket(), r.Key(), r.Region(), r.DynamoDBTable(), r.UseLockfile())
	}
	if r.Workspace() != "default" || r.WorkspaceSource() != "default" || r.StateObjectKey() != "app/terraform.tfstate" {
		t.Errorf("workspace %q from %q, object %q", r.Workspace(), r.WorkspaceSource(), r.StateObjectKey())
	}
}

// TestLegacyArguments: endpoint, dynamodb_endpoint and force_path_style
// (the pre-1.6 spellings) still give the endpoints and path style.
func TestLegacyArguments(t *testing.T) {
	r := mustResolve(t, opts(files("main.tf", `terraform {
  backend "s3" {
    bucket            = "b-1"
    key               = "k"
    endpoint          = "http://s3.local"
    dynamodb_endpoint = "http://ddb.local"
    force_path_style  = true
  }
}`)))
	if r.EndpointS3() != "http://s3.local" || r.EndpointDynamoDB() != "http://ddb.local" || !r.UsePathStyle() {
		t.Errorf("endpoints %q %q path style %v", r.EndpointS3(), r.EndpointDynamoDB(), r.UsePathStyle())
	}
}

// TestValuesConvertAsTerraformDoes: an argument is converted to the
// backend's type (a number to a string, "true" to a bool); a value that
// does not convert is a one-line error.
func TestValuesConvertAsTerraformDoes(t *testing.T) {
	r := mustResolve(t, opts(files("main.tf", `terraform {
  backend "s3" {
    bucket       = "b-1"
    key          = 42
    use_lockfile = "true"
    max_retries  = "3"
  }
}`)))
	want(t, r, map[string]string{
		"bucket": `"b-1" @ infra/main.tf:3`, "key": `"42" @ infra/main.tf:4`,
		"use_lockfile": `true @ infra/main.tf:5`, "max_retries": `3 @ infra/main.tf:6`,
	})
	resolveError(t, opts(files("main.tf", `terraform {
  backend "s3" {
    bucket  = "b-1"
    key     = "k"
    encrypt = "maybe"
  }
}`)), "invalid encrypt in infra/main.tf:5: want bool, not string")
	resolveError(t, opts(files("main.tf", `terraform {
  backend "s3" {
    bucket    = "b-1"
    key       = "k"
    endpoints = "http://x"
  }
}`)), "invalid endpoints in infra/main.tf:5: want an object")
	resolveError(t, opts(files("main.tf", `terraform {
  backend "s3" {
    bucket      = "b-1"
    key         = "k"
    assume_role = { role_arn = ["a"] }
  }
}`)), "invalid assume_role in infra/main.tf:5: role_arn: want string")
}

// TestJSONBlock: a .tf.json file's backend block, with JSON comments and
// the terraform block as an array, reads like the native one; "${" in a
// JSON string is literal, as terraform reads backend config.
func TestJSONBlock(t *testing.T) {
	r := mustResolve(t, opts(files("main.tf.json", `{
  "//": "written by a generator",
  "terraform": [{
    "backend": {
      "s3": {
        "bucket": "acme-state",
        "key": "app/${x}/terraform.tfstate",
        "use_lockfile": true,
        "endpoints": {"s3": "http://127.0.0.1:9000"}
      }
    }
  }],
  "resource": {"terraform_data": {"a": {"input": "a"}}}
}`)))
	want(t, r, map[string]string{
		"bucket":       `"acme-state" @ infra/main.tf.json:6`,
		"key":          `"app/$${x}/terraform.tfstate" @ infra/main.tf.json:7`,
		"use_lockfile": `true @ infra/main.tf.json:8`,
		"endpoints":    `{ s3 = "http://127.0.0.1:9000" } @ infra/main.tf.json:9`,
	})
	if r.Key() != "app/${x}/terraform.tfstate" {
		t.Errorf("key %q", r.Key())
	}
}

const tofuBlock = `terraform {
  backend "s3" {
    bucket = "tofu-state"
    key    = "tofu/terraform.tfstate"
  }
}`

const tfBlock = `terraform {
  backend "s3" {
    bucket = "tf-state"
    key    = "tf/terraform.tfstate"
  }
}`

// TestTofuFiles: terraform ignores .tofu files; tofu reads them and hides
// x.tf behind x.tofu; Auto picks tofu for a .tofu-only backend and refuses
// to guess when the two binaries would read different blocks.
func TestTofuFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fsys    fstest.MapFS
		bin     Binary
		bucket  string // "" : want err
		err     string
		binWant Binary
	}{
		{"tofu-only dir, auto", files("main.tofu", tofuBlock), Auto, "tofu-state", "", OpenTofu},
		{"tofu-only dir, tofu", files("main.tofu", tofuBlock), OpenTofu, "tofu-state", "", OpenTofu},
		{"tofu-only dir, terraform", files("main.tofu", tofuBlock), Terraform, "", `no backend "s3" block in infra and no bucket`, ""},
		{"tofu.json", files("main.tofu.json", `{"terraform": {"backend": {"s3": {"bucket": "tofu-state", "key": "k"}}}}`), Auto, "tofu-state", "", OpenTofu},
		{"x.tofu hides x.tf for tofu", files("main.tf", tfBlock, "main.tofu", tofuBlock), OpenTofu, "tofu-state", "", OpenTofu},
		{"terraform reads x.tf beside x.tofu", files("main.tf", tfBlock, "main.tofu", tofuBlock), Terraform, "tf-state", "", Terraform},
		{"auto refuses to guess", files("main.tf", tfBlock, "main.tofu", tofuBlock), Auto, "", "terraform and tofu read different backend blocks in infra (terraform: infra/main.tf:2, tofu: infra/main.tofu:2): set binary", ""},
		{"auto: the same block both ways", files("main.tf", tfBlock, "main.tofu", tfBlock), Auto, "tf-state", "", Terraform},
		{"auto: .tofu files without a backend", files("main.tf", tfBlock, "extra.tofu", `locals {}`), Auto, "tf-state", "", Terraform},
		{"x.tofu does not hide y.tf: duplicate for tofu", files("a.tf", tfBlock, "b.tofu", tofuBlock), OpenTofu, "", "duplicate backend configuration in infra/b.tofu:2", ""},
		{"x.tofu.json hides x.tf.json", files("main.tf.json", `{"terraform": {"backend": {"s3": {"bucket": "tf-state", "key": "k"}}}}`, "main.tofu.json", `{"terraform": {"backend": {"s3": {"bucket": "tofu-state", "key": "k"}}}}`), OpenTofu, "tofu-state", "", OpenTofu},
		{"x.tofu does not hide x.tf.json", files("main.tf.json", `{"terraform": {"backend": {"s3": {"bucket": "tf-state", "key": "k"}}}}`, "main.tofu", tofuBlock), OpenTofu, "", "duplicate backend configuration", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(tc.fsys)
			o.Binary = tc.bin
			if tc.bucket == "" {
				resolveError(t, o, tc.err)
				return
			}
			r := mustResolve(t, o)
			if r.Bucket() != tc.bucket || r.Binary() != tc.binWant {
				t.Errorf("bucket %q binary %q, want %q %q", r.Bucket(), r.Binary(), tc.bucket, tc.binWant)
			}
		})
	}
}

// TestOverrideFiles: a backend block in an override file replaces the
// whole earlier block, as terraform 1.11 and tofu 1.10 do (measured: the
// base sets bucket and key, the override key only: init fails for want
// of a bucket); override files apply in name order; an override file
// without a backend block leaves it.
func TestOverrideFiles(t *testing.T) {
	base := `terraform {
  backend "s3" {
    bucket = "base-bucket"
    key    = "base/terraform.tfstate"
    region = "eu-west-1"
  }
}`
	keyOnly := `terraform {
  backend "s3" {
    key = "override/terraform.tfstate"
  }
}`
	resolveError(t, opts(files("main.tf", base, "override.tf", keyOnly)), `backend "s3" block in infra/override.tf sets no bucket`)

	r := mustResolve(t, opts(files("main.tf", base, "backend_override.tf", `terraform {
  backend "s3" {
    bucket = "first-override"
    key    = "first/terraform.tfstate"
  }
}`, "override.tf.json", `{"terraform": {"backend": {"s3": {"bucket": "last-override", "key": "last/terraform.tfstate"}}}}`, "versions_override.tf", `terraform {
  required_version = ">= 1.6"
}`)))
	want(t, r, map[string]string{
		"bucket": `"last-override" @ infra/override.tf.json:1 (override file)`,
		"key":    `"last/terraform.tfstate" @ infra/override.tf.json:1 (override file)`,
	})
	if r.Block() != "infra/override.tf.json:1" {
		t.Errorf("block %q", r.Block())
	}

	// tofu's override files, and tofu hiding x_override.tf behind x_override.tofu
	o := opts(files("main.tf", base, "backend_override.tf", keyOnly, "backend_override.tofu", `terraform {
  backend "s3" {
    bucket = "tofu-override"
    key    = "tofu/terraform.tfstate"
  }
}`))
	o.Binary = OpenTofu
	r = mustResolve(t, o)
	if r.Bucket() != "tofu-override" || r.Source("key") != "infra/backend_override.tofu:4 (override file)" {
		t.Errorf("tofu override: %q from %q", r.Bucket(), r.Source("key"))
	}
	// under terraform the .tofu override does not exist: key-only override wins
	o.Binary = Terraform
	resolveError(t, o, `block in infra/backend_override.tf sets no bucket`)

	resolveError(t, opts(files("main.tf", base, "override.tf", keyOnly+"\n"+keyOnly)), "duplicate backend configuration in override file infra/override.tf:7")
}

// TestBlockErrors: what terraform refuses, prstate refuses in one line.
func TestBlockErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		err  string
	}{
		{"empty block", files("main.tf", `terraform {
  backend "s3" {}
}`), `backend "s3" block in infra/main.tf sets no bucket: pass your -backend-config file or pairs to prstate as backend-config (input backend-config, --backend-config, PRSTATE_BACKEND_CONFIG)`},
		{"no key", files("main.tf", `terraform {
  backend "s3" {
    bucket = "b-1"
  }
}`), `backend "s3" block in infra/main.tf sets no state key: pass your -backend-config file or pairs to prstate as backend-config`},
		{"empty bucket", files("main.tf", `terraform {
  backend "s3" {
    bucket = ""
    key = "k"
  }
}`), `sets no bucket`},
		{"no block", files("main.tf", `resource "terraform_data" "a" {}`), `no backend "s3" block in infra and no bucket: pass your -backend-config`},
		{"two blocks", files("a.tf", tfBlock, "b.tf", tofuBlock), "duplicate backend configuration in infra/b.tf:2: a module may have only one, and infra/a.tf:2 has one already"},
		{"gcs", files("main.tf", `terraform {
  backend "gcs" {
    bucket = "x"
  }
}`), `infra/main.tf:2: backend "gcs": prstate works with backend "s3" only`},
		{"cloud", files("main.tf", `terraform {
  cloud {
    organization = "acme"
  }
}`), `infra/main.tf:2: a cloud block stores state in HCP Terraform`},
		{"cloud override replaces backend", files("main.tf", tfBlock, "override.tf", `terraform {
  cloud {}
}`), `infra/override.tf:2: a cloud block`},
		{"nested block", files("main.tf", `terraform {
  backend "s3" {
    bucket = "b-1"
    key    = "k"
    assume_role {
      role_arn = "arn:aws:iam::123456789012:role/x"
    }
  }
}`), `infra/main.tf:5: blocks of type "assume_role" are not expected in a backend block: write it as an argument, assume_role = { ... }`},
		{"unparsable", files("main.tf", `terraform {
  backend "s3" {
    bucket = 
  }
}`), "cannot parse infra/main.tf:"},
		{"unparsable other file", files("main.tf", tfBlock, "broken.tf", `resource "x" {`), "cannot parse infra/broken.tf:1"},
		{"unparsable json", files("main.tf.json", `{"terraform": `), "cannot parse infra/main.tf.json:1"},
		{"variable", files("main.tf", `terraform {
  backend "s3" {
    bucket = var.bucket
    key    = "k"
  }
}`), `infra/main.tf:3: bucket = var.bucket: prstate cannot evaluate this expression: pass bucket to prstate as backend-config`},
	} {
		t.Run(tc.name, func(t *testing.T) { resolveError(t, opts(tc.fsys), tc.err) })
	}
	resolveError(t, Options{FS: fstest.MapFS{}, Dir: "nowhere"}, "cannot read working directory nowhere")
}

// TestIgnoredFiles: hidden, editor backup and emacs lock files are not
// configuration, for either binary.
func TestIgnoredFiles(t *testing.T) {
	r := mustResolve(t, opts(files("main.tf", tfBlock, ".hidden.tf", tofuBlock, "main.tf~", tofuBlock, "#main.tf#", tofuBlock, "notes.txt", "x")))
	if r.Bucket() != "tf-state" {
		t.Errorf("bucket %q", r.Bucket())
	}
}

const emptyBlock = `terraform {
  backend "s3" {}
}
`

// TestBackendConfig: files and key=value pairs, exactly `init
// -backend-config`: later ones win, argument by argument, over each other
// and over the block; pairs are plain strings converted to the argument's
// type, collections are HCL expressions.
func TestBackendConfig(t *testing.T) {
	fsys := files("main.tf", `terraform {
  backend "s3" {
    key    = "block/terraform.tfstate"
    region = "eu-west-1"
  }
}`, "prod.s3.tfbackend", `bucket         = "prod-state"
key            = "prod/terraform.tfstate"
dynamodb_table = "tf-locks"
endpoints      = { s3 = "http://127.0.0.1:9000" }
`, "eu.tfbackend", `region = "eu-central-1"`, "ci.tfbackend.json", `{"use_lockfile": true, "encrypt": true}`)
	fsys["shared/abs.tfbackend"] = &fstest.MapFile{Data: []byte(`kms_key_id = "alias/x"`)}
	o := opts(fsys)
	o.BackendConfig = []string{"prod.s3.tfbackend", "dynamodb_table=override-locks", "eu.tfbackend", "ci.tfbackend.json", "/shared/abs.tfbackend", `key="quoted"`, "skip_credentials_validation=1", `endpoints={s3="http://127.0.0.1:9999",dynamodb="http://127.0.0.1:9998"}`, `shared_config_files=["a","b"]`, "future_argument=x=y"}
	r := mustResolve(t, o)
	want(t, r, map[string]string{
		"bucket":                      `"prod-state" @ backend-config file infra/prod.s3.tfbackend:1`,
		"key":                         `"\"quoted\"" @ backend-config key="quoted"`,
		"region":                      `"eu-central-1" @ backend-config file infra/eu.tfbackend:1`,
		"dynamodb_table":              `"override-locks" @ backend-config dynamodb_table=override-locks`,
		"endpoints":                   `{ dynamodb = "http://127.0.0.1:9998", s3 = "http://127.0.0.1:9999" } @ backend-config endpoints={s3="http://127.0.0.1:9999",dynamodb="http://127.0.0.1:9998"}`,
		"use_lockfile":                `true @ backend-config file infra/ci.tfbackend.json:1`,
		"encrypt":                     `true @ backend-config file infra/ci.tfbackend.json:1`,
		"kms_key_id":                  `"alias/x" @ backend-config file /shared/abs.tfbackend:1`,
		"skip_credentials_validation": `true @ backend-config skip_credentials_validation=1`,
		"shared_config_files":         `["a", "b"] @ backend-config shared_config_files=["a","b"]`,
		"future_argument":             `"x=y" @ backend-config future_argument=x=y`,
	})

	// the empty block and a backend-config file: complete
	o = opts(files("main.tf", emptyBlock, "prod.s3.tfbackend", `bucket = "prod-state"
key = "app/terraform.tfstate"`))
	o.BackendConfig = []string{"prod.s3.tfbackend"}
	r = mustResolve(t, o)
	if r.Bucket() != "prod-state" || r.Key() != "app/terraform.tfstate" || r.Block() != "infra/main.tf:2" {
		t.Errorf("%q %q %q", r.Bucket(), r.Key(), r.Block())
	}
	// a later null unsets
	o.BackendConfig = []string{"prod.s3.tfbackend", "unset.tfbackend"}
	o.FS.(fstest.MapFS)["infra/unset.tfbackend"] = &fstest.MapFile{Data: []byte("bucket = null")}
	resolveError(t, o, "sets no bucket")
}

// TestBackendConfigErrors: bad items are one-line errors naming the item.
func TestBackendConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		items []string
		file  string
		err   string
	}{
		{[]string{"missing.s3.tfbackend"}, "", "backend-config file infra/missing.s3.tfbackend does not exist (a backend-config file is relative to the working directory infra)"},
		{[]string{"bad.tfbackend"}, `bucket = "unterminated`, "cannot parse backend-config file infra/bad.tfbackend:1"},
		{[]string{"bad.tfbackend"}, "terraform {\n  backend \"s3\" {}\n}\n", `backend-config file infra/bad.tfbackend:1: unexpected block "terraform"`},
		{[]string{"bad.tfbackend"}, `bucket = var.x`, "backend-config file infra/bad.tfbackend:1: bucket = var.x: only literal values are allowed here"},
		{[]string{"bad.tfbackend"}, `use_lockfile = "sometimes"`, "invalid use_lockfile in backend-config file infra/bad.tfbackend:1: want bool, not string"},
		{[]string{"use_lockfile=sometimes"}, "", "invalid backend-config use_lockfile=sometimes: want bool"},
		{[]string{"max_retries=many"}, "", "invalid backend-config max_retries=many: want number"},
		{[]string{"endpoints={s3="}, "", "invalid backend-config endpoints={s3=:"},
		{[]string{"endpoints=nope"}, "", "invalid backend-config endpoints=nope:"},
		{[]string{"endpoints=[1]"}, "", "invalid endpoints in backend-config endpoints=[1]: want an object"},
		{[]string{"not a name=x"}, "", `invalid backend-config item "not a name=x": want a file or name=value`},
		{[]string{"=x"}, "", `invalid backend-config item "=x"`},
	} {
		t.Run(strings.Join(tc.items, ","), func(t *testing.T) {
			fsys := files("main.tf", tfBlock)
			if tc.file != "" {
				fsys["infra/bad.tfbackend"] = &fstest.MapFile{Data: []byte(tc.file)}
			}
			o := opts(fsys)
			o.BackendConfig = tc.items
			resolveError(t, o, tc.err)
		})
	}
}

// TestSensitiveValues: secrets given as pairs are not shown in sources,
// and Sensitive lists them for masking.
func TestSensitiveValues(t *testing.T) {
	o := opts(files("main.tf", tfBlock))
	o.BackendConfig = []string{"secret_key=s3cr3t", "access_key=AKIAEXAMPLE", `assume_role_with_web_identity={role_arn="arn:aws:iam::1:role/x",web_identity_token="tok3n"}`}
	r := mustResolve(t, o)
	if got := r.Source("secret_key"); got != "backend-config secret_key=(sensitive)" {
		t.Errorf("source %q", got)
	}
	got := r.Sensitive()
	for _, s := range []string{"s3cr3t", "AKIAEXAMPLE", "tok3n"} {
		found := false
		for _, g := range got {
			found = found || g == s
		}
		if !found {
			t.Errorf("Sensitive() %v lacks %q", got, s)
		}
	}
}

// TestSplitItems: newlines and commas outside quotes and brackets.
func TestSplitItems(t *testing.T) {
	got := SplitItems(" prod.s3.tfbackend, bucket=b-1\n\n  endpoints={s3=\"http://a\",dynamodb=\"http://b\"} ,key=\"a,b\"\nshared_config_files=[\"x\",\"y\"]\r\n")
	exp := []string{"prod.s3.tfbackend", "bucket=b-1", `endpoints={s3="http://a",dynamodb="http://b"}`, `key="a,b"`, `shared_config_files=["x","y"]`}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("got %q\nwant %q", got, exp)
	}
	if got := SplitItems("  \n , "); len(got) != 0 {
		t.Errorf("blank: %q", got)
	}
}

const initStateTmpl = `{
  "version": 3,
  "terraform_version": "1.11.4",
  "backend": {
    "type": "s3",
    "config": {
      "access_key": null,
      "bucket": "recorded-bucket",
      "dynamodb_table": null,
      "endpoints": {"dynamodb": null, "iam": null, "s3": "http://127.0.0.1:9000", "sso": null, "sts": null},
      "key": "KEY",
      "region": "us-east-1",
      "shared_config_files": null,
      "skip_credentials_validation": true,
      "use_lockfile": true,
      "use_path_style": true,
      "max_retries": 4
    },
    "hash": 2088141989
  }
}`

func isPRKey(k string) bool { return strings.Contains(k, "/pr-") }

// TestInitState: an earlier init's record fills what the block and
// backend-config leave unset when they lack the bucket or the key; a
// recorded PR key is never production's; a complete configuration does
// not take from a (possibly stale) record.
func TestInitState(t *testing.T) {
	rec := func(key string) string { return strings.Replace(initStateTmpl, "KEY", key, 1) }
	// empty block: everything from the record
	o := opts(files("main.tf", emptyBlock, ".terraform/terraform.tfstate", rec("app/terraform.tfstate")))
	o.IsPRKey = isPRKey
	r := mustResolve(t, o)
	src := "infra/.terraform/terraform.tfstate (recorded by an earlier init)"
	want(t, r, map[string]string{
		"bucket": `"recorded-bucket" @ ` + src, "key": `"app/terraform.tfstate" @ ` + src, "region": `"us-east-1" @ ` + src,
		"endpoints": `{ s3 = "http://127.0.0.1:9000" } @ ` + src, "skip_credentials_validation": `true @ ` + src,
		"use_lockfile": `true @ ` + src, "use_path_style": `true @ ` + src, "max_retries": `4 @ ` + src,
	})
	if r.InitState() == nil || r.InitState().String("bucket") != "recorded-bucket" {
		t.Errorf("InitState %+v", r.InitState())
	}

	// block gives the key, the record the rest; the block wins where both give
	o = opts(files("main.tf", `terraform {
  backend "s3" {
    key    = "block/terraform.tfstate"
    region = "eu-west-1"
  }
}`, ".terraform/terraform.tfstate", rec("other/terraform.tfstate")))
	r = mustResolve(t, o)
	if r.Key() != "block/terraform.tfstate" || r.Region() != "eu-west-1" || r.Bucket() != "recorded-bucket" || r.Source("bucket") != src {
		t.Errorf("key %q region %q bucket %q from %q", r.Key(), r.Region(), r.Bucket(), r.Source("bucket"))
	}

	// a recorded PR key (an earlier PR init) is not production's
	o = opts(files("main.tf", emptyBlock, ".terraform/terraform.tfstate", rec("app/pr-42/terraform.tfstate")))
	o.IsPRKey = isPRKey
	resolveError(t, o, `backend "s3" block in infra/main.tf sets no state key`)
	o.BackendConfig = []string{"key=app/terraform.tfstate"}
	r = mustResolve(t, o)
	if r.Key() != "app/terraform.tfstate" || r.Bucket() != "recorded-bucket" {
		t.Errorf("key %q bucket %q", r.Key(), r.Bucket())
	}

	// complete block: the record is not used at all
	o = opts(files("main.tf", tfBlock, ".terraform/terraform.tfstate", rec("app/terraform.tfstate")))
	r = mustResolve(t, o)
	if r.Bucket() != "tf-state" || r.Region() != "" || r.UseLockfile() {
		t.Errorf("a complete block took from the record: %v", r.Names())
	}

	// TF_DATA_DIR moves the record
	o = opts(files("main.tf", emptyBlock, "tfdata/terraform.tfstate", rec("app/terraform.tfstate")))
	o.Env = func(k string) string { return map[string]string{"TF_DATA_DIR": "tfdata"}[k] }
	if r = mustResolve(t, o); r.Bucket() != "recorded-bucket" || r.Source("bucket") != "infra/tfdata/terraform.tfstate (recorded by an earlier init)" {
		t.Errorf("TF_DATA_DIR: %q from %q", r.Bucket(), r.Source("bucket"))
	}

	// another backend type, or none: nothing to take
	o = opts(files("main.tf", emptyBlock, ".terraform/terraform.tfstate", `{"version": 3, "backend": {"type": "local", "config": {"path": "x"}}}`))
	resolveError(t, o, "sets no bucket")
	o = opts(files("main.tf", emptyBlock, ".terraform/terraform.tfstate", `{"version": 3}`))
	resolveError(t, o, "sets no bucket")
	// a broken record is an error, as it is for terraform
	o = opts(files("main.tf", emptyBlock, ".terraform/terraform.tfstate", `{"version": 3, "backend": {`))
	resolveError(t, o, "cannot parse infra/.terraform/terraform.tfstate, recorded by an earlier init")
}

// TestWorkspace: TF_WORKSPACE, else .terraform/environment, else default;
// a PR workspace is never production's; outside the default workspace the
// state object is <workspace_key_prefix>/<workspace>/<key>.
func TestWorkspace(t *testing.T) {
	isPRWS := func(ws string) bool { return strings.HasPrefix(ws, "pr-") }
	for _, tc := range []struct {
		name, env, envFile, prefix string
		ws, from, object, err      string
	}{
		{name: "default", ws: "default", from: "default", object: "app/terraform.tfstate"},
		{name: "TF_WORKSPACE", env: "staging", ws: "staging", from: "TF_WORKSPACE", object: "env:/staging/app/terraform.tfstate"},
		{name: "environment file", envFile: "staging\n", ws: "staging", from: "infra/.terraform/environment", object: "env:/staging/app/terraform.tfstate"},
		{name: "TF_WORKSPACE wins", env: "prod", envFile: "staging", ws: "prod", from: "TF_WORKSPACE", object: "env:/prod/app/terraform.tfstate"},
		{name: "prefix", env: "staging", prefix: "workspaces", ws: "staging", from: "TF_WORKSPACE", object: "workspaces/staging/app/terraform.tfstate"},
		{name: "PR TF_WORKSPACE passed over", env: "pr-42", envFile: "staging", ws: "staging", from: "infra/.terraform/environment", object: "env:/staging/app/terraform.tfstate"},
		{name: "PR environment passed over", envFile: "pr-42", ws: "default", from: "default", object: "app/terraform.tfstate"},
		{name: "default by name", env: "default", ws: "default", from: "TF_WORKSPACE", object: "app/terraform.tfstate"},
		{name: "invalid", env: "a/b", err: `invalid TF_WORKSPACE "a/b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			block := `terraform {
  backend "s3" {
    bucket = "b-1"
    key    = "app/terraform.tfstate"
    ` + map[bool]string{true: `workspace_key_prefix = "` + tc.prefix + `"`}[tc.prefix != ""] + `
  }
}`
			fsys := files("main.tf", block)
			if tc.envFile != "" {
				fsys["infra/.terraform/environment"] = &fstest.MapFile{Data: []byte(tc.envFile)}
			}
			o := opts(fsys)
			o.Env = func(k string) string { return map[string]string{"TF_WORKSPACE": tc.env}[k] }
			o.IsPRWorkspace = isPRWS
			if tc.err != "" {
				resolveError(t, o, tc.err)
				return
			}
			r := mustResolve(t, o)
			if r.Workspace() != tc.ws || r.WorkspaceSource() != tc.from || r.StateObjectKey() != tc.object {
				t.Errorf("workspace %q from %q object %q, want %q %q %q", r.Workspace(), r.WorkspaceSource(), r.StateObjectKey(), tc.ws, tc.from, tc.object)
			}
		})
	}
}

// TestOverridesWin: prstate's own settings win over everything.
func TestOverridesWin(t *testing.T) {
	o := opts(files("main.tf", tfBlock))
	o.BackendConfig = []string{"bucket=from-backend-config"}
	o.Overrides = []Override{
		{Name: "bucket", Value: cty.StringVal("from-flag"), From: "--bucket"},
		{Name: "use_lockfile", Value: cty.StringVal("true"), From: "PRSTATE_USE_LOCKFILE"},
		{Name: "region", Value: cty.NilVal, From: "--region"},
	}
	r := mustResolve(t, o)
	want(t, r, map[string]string{
		"bucket":       `"from-flag" @ --bucket`,
		"key":          `"tf/terraform.tfstate" @ infra/main.tf:4`,
		"use_lockfile": `true @ PRSTATE_USE_LOCKFILE`,
	})
	// the flags alone, without any block
	o = opts(files("main.tf", `resource "terraform_data" "a" {}`))
	o.Overrides = []Override{{Name: "bucket", Value: cty.StringVal("b-1"), From: "--bucket"}, {Name: "key", Value: cty.StringVal("k"), From: "--key"}}
	if r = mustResolve(t, o); r.Block() != "" || r.Key() != "k" {
		t.Errorf("block %q key %q", r.Block(), r.Key())
	}
	// an expression a flag replaces is no longer a problem
	o = opts(files("main.tf", `terraform {
  backend "s3" {
    bucket = var.bucket
    key    = "k"
  }
}`))
	o.Overrides = []Override{{Name: "bucket", Value: cty.StringVal("b-1"), From: "--bucket"}}
	mustResolve(t, o)
}

// TestPRFileRoundTrips: the PR file holds every resolved setting, the key
// replaced; read back as terraform reads a backend-config file (HCL,
// evaluated without variables) it gives exactly those values, keys with
// template sequences, quotes and non-ASCII included.
func TestPRFileRoundTrips(t *testing.T) {
	r := mustResolve(t, opts(files("main.tf", fullBlock)))
	for _, key := range []string{"app/pr-42/terraform.tfstate", "app/${env}/pr-1/t.tfstate", "app/100%{x}/t", `a"b\c/t`, "équipe/état\u200b.tfstate", "app/$${x}/t", "tab\there"} {
		src := r.PRFile(key, "")
		f, diags := hclsyntax.ParseConfig(src, "prstate.s3.tfbackend", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %s\n%s", key, diags.Error(), src)
		}
		attrs, diags := f.Body.JustAttributes()
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if len(attrs) != len(r.Names()) {
			t.Errorf("%d arguments in the file, %d resolved\n%s", len(attrs), len(r.Names()), src)
		}
		for name, a := range attrs {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%s does not evaluate: %s\n%s", name, diags.Error(), src)
			}
			exp := r.Value(name)
			if name == "key" {
				exp = cty.StringVal(key)
			}
			if s, ok := s3Schema[name]; ok {
				if v, _ = conform(v, s); !v.RawEquals(exp) {
					t.Errorf("%s reads back as %#v, want %#v\n%s", name, v, exp, src)
				}
			} else if !v.RawEquals(exp) {
				t.Errorf("%s reads back as %#v, want %#v", name, v, exp)
			}
		}
	}
	file := string(r.PRFile("app/terraform.tfstate", "pr-42"))
	for _, line := range []string{`bucket               = "acme-state"` + "\n", `key                  = "app/terraform.tfstate"` + "\n", "# workspace: pr-42 (select it with TF_WORKSPACE=pr-42)\n", "skip_credentials_validation = true\n"} {
		if !strings.Contains(file, line) {
			t.Errorf("file lacks %q:\n%s", line, file)
		}
	}
	if !strings.HasPrefix(file, "# written by prstate") || strings.Index(file, "bucket") > strings.Index(file, "key ") || strings.Index(file, "key ") > strings.Index(file, "region") {
		t.Errorf("file does not start with its header, bucket, key, region:\n%s", file)
	}
}

// FuzzQuoteHCL: any string quoted reads back as itself.
func FuzzQuoteHCL(f *testing.F) {
	for _, s := range []string{"", "a", "${x}", "%{if}", "$${", `"\`, "\x00\x7f\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8ValidString(s) {
			return
		}
		expr, diags := hclsyntax.ParseExpression([]byte(QuoteHCL(s)), "x", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %s", QuoteHCL(s), diags.Error())
		}
		v, diags := expr.Value(nil)
		if diags.HasErrors() || v.AsString() != s {
			t.Fatalf("%q reads back as %#v (%s)", s, v, diags.Error())
		}
	})
}

// utf8ValidString: strings HCL can hold as they are (it reads string
// literals as NFC, as terraform does).
func utf8ValidString(s string) bool { return utf8.ValidString(s) && norm.NFC.IsNormalString(s) }

// TestCheckPRInit: the post step's rule: what the last init recorded must
// be the PR state, or the message names the fix.
func TestCheckPRInit(t *testing.T) {
	rec := func(bucket, key string) string {
		return `{"version": 3, "backend": {"type": "s3", "config": {"bucket": "` + bucket + `", "key": "` + key + `", "endpoints": {"s3": null}}}}`
	}
	pr := PRInit{Dir: "infra", Bucket: "b-1", Key: "app/pr-42/terraform.tfstate", Production: "app/terraform.tfstate", BackendFile: "prstate.s3.tfbackend"}
	ws := PRInit{Dir: "infra", Bucket: "b-1", Key: "app/terraform.tfstate", Workspace: "pr-42", Production: "app/terraform.tfstate", BackendFile: "prstate.s3.tfbackend"}
	for _, tc := range []struct {
		name            string
		want            PRInit
		record, envFile string
		tfWorkspace     string
		ok, checked     bool
		msg             string
	}{
		{name: "no init", want: pr, ok: true, msg: "no init recorded a backend in infra/.terraform/terraform.tfstate: nothing to check"},
		{name: "PR key", want: pr, record: rec("b-1", "app/pr-42/terraform.tfstate"), ok: true, checked: true, msg: "init configured the pull request's state s3://b-1/app/pr-42/terraform.tfstate"},
		{name: "production key", want: pr, record: rec("b-1", "app/terraform.tfstate"), checked: true,
			msg: "infra/.terraform/terraform.tfstate: init configured s3://b-1/app/terraform.tfstate (production's state), not the pull request's s3://b-1/app/pr-42/terraform.tfstate: pass -backend-config=prstate.s3.tfbackend last to init, or drop your own -backend-config and give it to prstate as backend-config (input backend-config, --backend-config, PRSTATE_BACKEND_CONFIG)"},
		{name: "another key", want: pr, record: rec("b-1", "app/pr-7/terraform.tfstate"), checked: true, msg: "init configured s3://b-1/app/pr-7/terraform.tfstate, not the pull request's"},
		{name: "another bucket", want: pr, record: rec("b-2", "app/pr-42/terraform.tfstate"), checked: true, msg: "init configured s3://b-2/app/pr-42/terraform.tfstate, not"},
		{name: "not s3", want: pr, record: `{"version": 3, "backend": {"type": "local", "config": {}}}`, checked: true, msg: `init configured backend "local"`},
		{name: "workspace by TF_WORKSPACE", want: ws, record: rec("b-1", "app/terraform.tfstate"), tfWorkspace: "pr-42", ok: true, checked: true, msg: "s3://b-1/env:/pr-42/app/terraform.tfstate"},
		{name: "workspace by select", want: ws, record: rec("b-1", "app/terraform.tfstate"), envFile: "pr-42", ok: true, checked: true},
		{name: "workspace default", want: ws, record: rec("b-1", "app/terraform.tfstate"), checked: true, msg: "workspace default (from default) is selected in infra, not the pull request's pr-42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := files("main.tf", tfBlock)
			if tc.record != "" {
				fsys["infra/.terraform/terraform.tfstate"] = &fstest.MapFile{Data: []byte(tc.record)}
			}
			if tc.envFile != "" {
				fsys["infra/.terraform/environment"] = &fstest.MapFile{Data: []byte(tc.envFile)}
			}
			env := func(k string) string { return map[string]string{"TF_WORKSPACE": tc.tfWorkspace}[k] }
			res, err := CheckPRInit(fsys, tc.want, env)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tc.ok || res.Checked != tc.checked || !strings.Contains(res.Msg, tc.msg) {
				t.Errorf("got %+v\nwant ok %v checked %v msg %q", res, tc.ok, tc.checked, tc.msg)
			}
		})
	}
}
