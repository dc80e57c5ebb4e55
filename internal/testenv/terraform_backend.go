package testenv

import (
	"fmt"
	"strings"
)

// TerraformBackend returns a `terraform { backend "s3" { ... } }` block
// that reaches the S3/DynamoDB API at endpoint (moto, or a proxy before
// it). settings are the block's own lines (bucket, key, dynamodb_table or
// use_lockfile, ...); region, endpoints and the checks moto cannot answer
// are added.
func TerraformBackend(endpoint string, settings ...string) string {
	var b strings.Builder
	b.WriteString("terraform {\n  backend \"s3\" {\n")
	for _, s := range settings {
		if s != "" {
			fmt.Fprintf(&b, "    %s\n", s)
		}
	}
	fmt.Fprintf(&b, `    region                      = "us-east-1"
    endpoints                   = { s3 = %q, dynamodb = %q }
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
  }
}
`, endpoint, endpoint)
	return b.String()
}
