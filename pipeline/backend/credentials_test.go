package backend

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/usage"
)

// credsOf resolves a main.tf whose backend block has body (bucket and key
// added), with backend-config pairs and the environment env, under bin.
func credsOf(t *testing.T, bin Binary, body string, env map[string]string, pairs ...string) (Credentials, error) {
	t.Helper()
	src := "terraform {\n  backend \"s3\" {\n    bucket = \"b\"\n    key = \"k\"\n" + body + "\n  }\n}\n"
	o := opts(files("main.tf", src))
	o.Binary, o.BackendConfig = bin, pairs
	r, err := Resolve(o)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return r.Credentials(func(k string) string { return env[k] })
}

// TestCredentialsPrecedence: the credential settings are read as
// terraform's S3 backend reads them: block and backend-config first, the
// environment variables terraform itself reads second, and nothing else
// (AWS_PROFILE and AWS_ACCESS_KEY_ID stay the SDK's, which the block's
// profile and static keys win over).
func TestCredentialsPrecedence(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_SHARED_CREDENTIALS_FILE": "/env/credentials", "AWS_SHARED_CONFIG_FILE": "/env/config",
		"AWS_ENDPOINT_URL_STS": "http://env-sts", "AWS_CA_BUNDLE": "/env/ca.pem", "AWS_RETRY_MODE": "adaptive",
		"AWS_USE_FIPS_ENDPOINT": "true", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://env-imds",
		"AWS_PROFILE": "from-env", "AWS_ACCESS_KEY_ID": "AKIAENV",
	}
	c, err := credsOf(t, Terraform, "", env)
	if err != nil {
		t.Fatal(err)
	}
	got := Credentials{SharedCredentialsFiles: c.SharedCredentialsFiles, SharedConfigFiles: c.SharedConfigFiles, STSEndpoint: c.STSEndpoint, CustomCABundle: c.CustomCABundle, RetryMode: c.RetryMode, UseFIPSEndpoint: c.UseFIPSEndpoint, EC2MetadataEndpoint: c.EC2MetadataEndpoint, LegacyProxy: c.LegacyProxy}
	wantEnv := Credentials{SharedCredentialsFiles: []string{"/env/credentials"}, SharedConfigFiles: []string{"/env/config"}, STSEndpoint: "http://env-sts", CustomCABundle: "/env/ca.pem", RetryMode: "adaptive", UseFIPSEndpoint: true, EC2MetadataEndpoint: "http://env-imds", LegacyProxy: true}
	if !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("from the environment:\n got %+v\nwant %+v", got, wantEnv)
	}
	if c.Profile != "" || c.AccessKey != "" || c.AssumeRole != nil {
		t.Errorf("AWS_PROFILE/AWS_ACCESS_KEY_ID read as block settings: %+v", c)
	}

	block := `
    profile = "ci"
    shared_credentials_files = ["/block/credentials"]
    shared_config_files = ["/block/config"]
    endpoints = { sts = "http://block-sts", iam = "http://block-iam", sso = "http://block-sso" }
    sts_region = "eu-west-1"
    custom_ca_bundle = "/block/ca.pem"
    retry_mode = "standard"
    use_fips_endpoint = false
    max_retries = 3
    http_proxy = "http://proxy:3128"
    no_proxy = ".internal"
    insecure = true
    skip_metadata_api_check = true
    allowed_account_ids = ["123456789012"]
    assume_role = {
      role_arn = "arn:aws:iam::123456789012:role/state"
      duration = "1h"
      external_id = "ext-1"
      session_name = "ci"
      source_identity = "octocat"
      policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
      tags = { team = "infra" }
      transitive_tag_keys = ["team"]
    }`
	c, err = credsOf(t, Terraform, block, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != "ci" || c.ProfileFrom != "infra/main.tf:6" {
		t.Errorf("profile %q from %q", c.Profile, c.ProfileFrom)
	}
	checks := map[string][2]any{
		"shared_credentials_files": {c.SharedCredentialsFiles, []string{"/block/credentials"}},
		"shared_config_files":      {c.SharedConfigFiles, []string{"/block/config"}},
		"endpoints.sts":            {c.STSEndpoint, "http://block-sts"},
		"endpoints.iam":            {c.IAMEndpoint, "http://block-iam"},
		"endpoints.sso":            {c.SSOEndpoint, "http://block-sso"},
		"sts_region":               {c.STSRegion, "eu-west-1"},
		"custom_ca_bundle":         {c.CustomCABundle, "/block/ca.pem"},
		"retry_mode":               {c.RetryMode, "standard"},
		"use_fips_endpoint":        {c.UseFIPSEndpoint, false},
		"max_retries":              {c.MaxRetries, 3},
		"http_proxy":               {*c.HTTPProxy, "http://proxy:3128"},
		"https_proxy":              {c.HTTPSProxy == nil, true},
		"no_proxy":                 {c.NoProxy, ".internal"},
		"insecure":                 {c.Insecure, true},
		"skip_metadata_api_check":  {c.IMDS, "disabled"},
		"allowed_account_ids":      {c.AllowedAccountIDs, []string{"123456789012"}},
		"accounts from":            {c.AccountsFrom, "infra/main.tf:19"},
	}
	for name, gw := range checks {
		if !reflect.DeepEqual(gw[0], gw[1]) {
			t.Errorf("%s = %#v, want %#v", name, gw[0], gw[1])
		}
	}
	wantRole := &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/state", Duration: time.Hour, ExternalID: "ext-1", SessionName: "ci", SourceIdentity: "octocat",
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Tags: map[string]string{"team": "infra"}, TransitiveTagKeys: []string{"team"}, From: "infra/main.tf:20"}
	if !reflect.DeepEqual(c.AssumeRole, wantRole) {
		t.Errorf("assume_role\n got %+v\nwant %+v", c.AssumeRole, wantRole)
	}

	// -backend-config wins over the block, as at init.
	c, err = credsOf(t, Terraform, `profile = "ci"`, nil, "profile=ops", "access_key=AKIACFG", "secret_key=s")
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != "ops" || c.ProfileFrom != "backend-config profile=ops" || c.AccessKey != "AKIACFG" || c.StaticFrom != "backend-config access_key=(sensitive)" {
		t.Errorf("backend-config: %+v", c)
	}
}

// TestCredentialsWebIdentity: tofu fills assume_role_with_web_identity
// from AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and
// AWS_ROLE_SESSION_NAME; terraform does not, and wants exactly one token
// source in the block.
func TestCredentialsWebIdentity(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/env", "AWS_WEB_IDENTITY_TOKEN_FILE": "/env/token", "AWS_ROLE_SESSION_NAME": "envsess"}
	c, err := credsOf(t, OpenTofu, `assume_role_with_web_identity = { duration = "30m" }`, env)
	if err != nil {
		t.Fatal(err)
	}
	want := &WebIdentityRole{RoleARN: "arn:aws:iam::123456789012:role/env", TokenFile: "/env/token", SessionName: "envsess", Duration: 30 * time.Minute, From: "infra/main.tf:5"}
	if !reflect.DeepEqual(c.WebIdentity, want) {
		t.Errorf("tofu web identity\n got %+v\nwant %+v", c.WebIdentity, want)
	}
	if c.LegacyProxy {
		t.Error("tofu keeps http_proxy and https_proxy apart")
	}
	if _, err := credsOf(t, Terraform, `assume_role_with_web_identity = { duration = "30m" }`, env); err == nil || !strings.Contains(err.Error(), "set web_identity_token or web_identity_token_file") {
		t.Errorf("terraform without a token source: %v", err)
	}
	c, err = credsOf(t, Terraform, `assume_role_with_web_identity = { role_arn = "arn:aws:iam::123456789012:role/w", web_identity_token_file = "/t" }`, env)
	if err != nil || c.WebIdentity.RoleARN != "arn:aws:iam::123456789012:role/w" || c.WebIdentity.TokenFile != "/t" || c.WebIdentity.SessionName != "" {
		t.Errorf("terraform web identity %+v, %v", c.WebIdentity, err)
	}
}

// TestCredentialsLegacyRoleARN: tofu still reads the pre-1.6 top-level
// role_arn; terraform 1.11 does not, so prstate refuses it there rather
// than act as the base identity.
func TestCredentialsLegacyRoleARN(t *testing.T) {
	t.Parallel()
	body := `role_arn = "arn:aws:iam::123456789012:role/old"
    assume_role_duration_seconds = 1800
    session_name = "s1"`
	c, err := credsOf(t, OpenTofu, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AssumeRole == nil || c.AssumeRole.RoleARN != "arn:aws:iam::123456789012:role/old" || c.AssumeRole.Duration != 30*time.Minute || c.AssumeRole.SessionName != "s1" {
		t.Errorf("tofu legacy role: %+v", c.AssumeRole)
	}
	_, err = credsOf(t, Terraform, body, nil)
	var ue *usage.Error
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "infra/main.tf:5: role_arn") || !strings.Contains(err.Error(), "terraform 1.11 reads only the assume_role block") {
		t.Errorf("terraform with a top-level role_arn: %v", err)
	}
}

// TestCredentialsRefused: values terraform refuses, and arguments prstate
// does not know in the identity blocks, are a one-line usage error (exit
// 2) naming the setting and where it was set.
func TestCredentialsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`access_key = "AKIA"`, "access_key and secret_key: set both, or neither"},
		{`assume_role = { duration = "1h" }`, "assume_role.role_arn: it is required"},
		{`assume_role = { role_arn = "role/state" }`, "want an IAM role ARN"},
		{`assume_role = { role_arn = "arn:aws:iam::123456789012:role/s", duration = "5m" }`, "assume_role.duration: want 15m to 12h"},
		{`assume_role = { role_arn = "arn:aws:iam::123456789012:role/s", duration = "soon" }`, "assume_role.duration: want a duration"},
		{`assume_role = { role_arn = "arn:aws:iam::123456789012:role/s", policy = "{" }`, "assume_role.policy: want a JSON policy document"},
		{`assume_role = { role_arn = "arn:aws:iam::123456789012:role/s", session_name = "a b" }`, "assume_role.session_name"},
		{`assume_role = { role_arn = "arn:aws:iam::123456789012:role/s", mfa_serial = "x" }`, "assume_role.mfa_serial: prstate does not know this argument"},
		{`assume_role_with_web_identity = { role_arn = "arn:aws:iam::123456789012:role/s", web_identity_token = "abcd", web_identity_token_file = "/t" }`, "set only one of web_identity_token and web_identity_token_file"},
		{`allowed_account_ids = ["1234"]`, "allowed_account_ids 1234: want 12-digit AWS account IDs"},
		{"allowed_account_ids = [\"123456789012\"]\n forbidden_account_ids = [\"210987654321\"]", "conflicts with forbidden_account_ids"},
		{`retry_mode = "fast"`, "retry_mode fast: want standard or adaptive"},
		{`ec2_metadata_service_endpoint_mode = "v6"`, "want IPv4 or IPv6"},
		{"shared_credentials_file = \"/a\"\n shared_credentials_files = [\"/b\"]", "conflicts with shared_credentials_files"},
		{`max_retries = 1.5`, "max_retries: want a whole number"},
	} {
		_, err := credsOf(t, Terraform, tc.body, nil)
		var ue *usage.Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "infra/main.tf:5") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s:\n got %v\nwant a one-line usage error at infra/main.tf:5 with %q", tc.body, err, tc.want)
		}
	}
}
