package backend

import (
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// attrSchema is the type of one argument of the s3 backend, and of the
// arguments nested in it (endpoints, assume_role, ...).
type attrSchema struct {
	typ       cty.Type              // for a nested object: cty.DynamicPseudoType
	nested    map[string]attrSchema // arguments of a nested object
	sensitive bool
}

var (
	str     = attrSchema{typ: cty.String}
	boolean = attrSchema{typ: cty.Bool}
	number  = attrSchema{typ: cty.Number}
	strSet  = attrSchema{typ: cty.Set(cty.String)}
	strMap  = attrSchema{typ: cty.Map(cty.String)}
	secret  = attrSchema{typ: cty.String, sensitive: true}
)

func object(attrs map[string]attrSchema) attrSchema {
	return attrSchema{typ: cty.DynamicPseudoType, nested: attrs}
}

// s3Schema is the union of the s3 backend's arguments in terraform 1.11 and
// tofu 1.10 (tofu keeps the pre-1.6 assume-role arguments). Arguments not
// listed here pass through unchecked, as the values they were given: a
// newer binary may know them.
var s3Schema = map[string]attrSchema{
	"bucket":                             str,
	"key":                                str,
	"region":                             str,
	"access_key":                         secret,
	"secret_key":                         secret,
	"token":                              secret,
	"sse_customer_key":                   secret,
	"acl":                                str,
	"allowed_account_ids":                strSet,
	"forbidden_account_ids":              strSet,
	"custom_ca_bundle":                   str,
	"dynamodb_endpoint":                  str,
	"dynamodb_table":                     str,
	"ec2_metadata_service_endpoint":      str,
	"ec2_metadata_service_endpoint_mode": str,
	"encrypt":                            boolean,
	"endpoint":                           str,
	"iam_endpoint":                       str,
	"sts_endpoint":                       str,
	"sts_region":                         str,
	"endpoints": object(map[string]attrSchema{
		"s3": str, "dynamodb": str, "iam": str, "sso": str, "sts": str,
	}),
	"force_path_style":            boolean,
	"use_path_style":              boolean,
	"http_proxy":                  str,
	"https_proxy":                 str,
	"no_proxy":                    str,
	"insecure":                    boolean,
	"kms_key_id":                  str,
	"max_retries":                 number,
	"retry_mode":                  str,
	"profile":                     str,
	"shared_config_files":         strSet,
	"shared_credentials_file":     str,
	"shared_credentials_files":    strSet,
	"skip_credentials_validation": boolean,
	"skip_metadata_api_check":     boolean,
	"skip_region_validation":      boolean,
	"skip_requesting_account_id":  boolean,
	"skip_s3_checksum":            boolean,
	"use_dualstack_endpoint":      boolean,
	"use_fips_endpoint":           boolean,
	"use_lockfile":                boolean,
	"workspace_key_prefix":        str,
	"assume_role": object(map[string]attrSchema{
		"role_arn": str, "duration": str, "external_id": str, "policy": str,
		"policy_arns": strSet, "session_name": str, "source_identity": str,
		"tags": strMap, "transitive_tag_keys": strSet,
	}),
	"assume_role_with_web_identity": object(map[string]attrSchema{
		"role_arn": str, "duration": str, "policy": str, "policy_arns": strSet,
		"session_name": str, "web_identity_token": secret, "web_identity_token_file": str,
	}),
	// tofu's pre-1.6 assume-role arguments
	"role_arn":                        str,
	"session_name":                    str,
	"external_id":                     str,
	"assume_role_duration_seconds":    number,
	"assume_role_policy":              str,
	"assume_role_policy_arns":         strSet,
	"assume_role_tags":                strMap,
	"assume_role_transitive_tag_keys": strSet,
}

// conform converts v to the type s gives it, as terraform converts an
// argument to the backend's schema (bucket = 5 is the string "5",
// use_lockfile = "true" is true); an object's arguments are converted one
// by one and its null ones dropped.
func conform(v cty.Value, s attrSchema) (cty.Value, error) {
	if v.IsNull() {
		return v, nil
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, errors.New("value is not known")
	}
	if s.nested == nil {
		cv, err := convert.Convert(v, s.typ)
		if err != nil {
			return cty.NilVal, fmt.Errorf("want %s, not %s", s.typ.FriendlyName(), v.Type().FriendlyName())
		}
		return cv, nil
	}
	if t := v.Type(); !t.IsObjectType() && !t.IsMapType() {
		return cty.NilVal, fmt.Errorf("want an object such as { name = \"...\" }, not %s", t.FriendlyName())
	}
	m := map[string]cty.Value{}
	for k, e := range v.AsValueMap() {
		if ns, ok := s.nested[k]; ok {
			ce, err := conform(e, ns)
			if err != nil {
				return cty.NilVal, fmt.Errorf("%s: %w", k, err)
			}
			e = ce
		}
		if !e.IsNull() {
			m[k] = e
		}
	}
	if len(m) == 0 {
		return cty.EmptyObjectVal, nil
	}
	return cty.ObjectVal(m), nil
}
