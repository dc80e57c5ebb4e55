package backend

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Credentials are the backend's settings that decide which AWS identity
// terraform (or tofu) acts as, and how it reaches AWS to get it: read as
// their S3 backend reads them (terraform 1.11 and tofu 1.10, both on
// hashicorp/aws-sdk-go-base v2), environment defaults included. It is
// pure: the SDK configuration is built from it by package identity.
type Credentials struct {
	// Static keys in the block (or backend-config) win over every other
	// source of base credentials.
	AccessKey, SecretKey, Token string
	StaticFrom                  string // where access_key was set

	// Profile is the block's profile: it wins over AWS_PROFILE and over
	// the environment's keys.
	Profile, ProfileFrom string

	SharedConfigFiles      []string // shared_config_files, else AWS_SHARED_CONFIG_FILE
	SharedCredentialsFiles []string // shared_credentials_files (or _file), else AWS_SHARED_CREDENTIALS_FILE

	// WebIdentity replaces the base credentials (when there are no static
	// keys); AssumeRole is chained on top of whatever the base is.
	WebIdentity *WebIdentityRole
	AssumeRole  *AssumeRole

	STSRegion   string
	STSEndpoint string // endpoints.sts, sts_endpoint, AWS_ENDPOINT_URL_STS, AWS_STS_ENDPOINT
	IAMEndpoint string // prstate makes no IAM call; kept for display
	SSOEndpoint string // endpoints.sso, AWS_ENDPOINT_URL_SSO

	AllowedAccountIDs, ForbiddenAccountIDs []string
	AccountsFrom                           string // where the list was set

	CustomCABundle string // custom_ca_bundle, else AWS_CA_BUNDLE
	Insecure       bool
	HTTPProxy      *string // nil: not set in the block (the environment's HTTP_PROXY applies)
	HTTPSProxy     *string
	NoProxy        string
	// LegacyProxy is terraform's rule: http_proxy also serves HTTPS when
	// neither https_proxy nor HTTPS_PROXY is set (tofu keeps them apart).
	LegacyProxy bool

	UseFIPSEndpoint, UseDualStackEndpoint bool
	MaxRetries                            int // 0: not set (prstate's own default applies)
	RetryMode                             string

	EC2MetadataEndpoint, EC2MetadataEndpointMode string
	// IMDS is skip_metadata_api_check: "" unset (the SDK's default,
	// AWS_EC2_METADATA_DISABLED), "disabled" or "enabled".
	IMDS string

	SkipCredentialsValidation bool
	SkipRequestingAccountID   bool
}

// AssumeRole is the backend's assume_role block.
type AssumeRole struct {
	RoleARN           string
	Duration          time.Duration
	ExternalID        string
	Policy            string
	PolicyARNs        []string
	SessionName       string
	SourceIdentity    string
	Tags              map[string]string
	TransitiveTagKeys []string
	From              string // where it was set: "infra/main.tf:9"
}

// WebIdentityRole is the backend's assume_role_with_web_identity block.
type WebIdentityRole struct {
	RoleARN     string
	Duration    time.Duration
	Policy      string
	PolicyARNs  []string
	SessionName string
	Token       string
	TokenFile   string
	From        string
}

var (
	roleARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
	policyARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/.+$`)
	roleNamePattern  = regexp.MustCompile(`^[\w+=,.@\-]{2,64}$`)
	accountPattern   = regexp.MustCompile(`^\d{12}$`)
	// externalIDPattern: 2 to 1224 of these characters (checked apart:
	// Go's regexp repeats at most 1000 times).
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/\-]+$`)
)

// Credentials reads the credential settings, with env (nil: none set)
// giving the environment defaults terraform and tofu read themselves.
// A value terraform or tofu would refuse, or one prstate cannot honour,
// is a *usage.Error naming the setting and where it was set.
func (r *Resolved) Credentials(env func(string) string) (Credentials, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	tofu := r.binary == OpenTofu
	c := Credentials{
		AccessKey: r.String("access_key"), SecretKey: r.String("secret_key"), Token: r.String("token"),
		Profile: r.String("profile"), ProfileFrom: r.Source("profile"),
		STSRegion: r.String("sts_region"), NoProxy: r.String("no_proxy"),
		Insecure: r.Bool("insecure"), LegacyProxy: !tofu,
		SkipCredentialsValidation: r.Bool("skip_credentials_validation"),
		SkipRequestingAccountID:   r.Bool("skip_requesting_account_id"),
	}
	c.StaticFrom = firstSource(r, "access_key", "secret_key", "token")
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return c, r.credErr(c.StaticFrom, "access_key and secret_key", "set both, or neither")
	}
	var err error
	if c.SharedCredentialsFiles, err = r.stringList("shared_credentials_files"); err != nil {
		return c, err
	}
	if _, ok := r.Lookup("shared_credentials_file"); ok {
		if c.SharedCredentialsFiles != nil {
			return c, r.credErr(r.Source("shared_credentials_file"), "shared_credentials_file", "it conflicts with shared_credentials_files: keep one")
		}
		c.SharedCredentialsFiles = []string{r.String("shared_credentials_file")}
	}
	if c.SharedCredentialsFiles == nil && env("AWS_SHARED_CREDENTIALS_FILE") != "" {
		c.SharedCredentialsFiles = []string{env("AWS_SHARED_CREDENTIALS_FILE")}
	}
	if c.SharedConfigFiles, err = r.stringList("shared_config_files"); err != nil {
		return c, err
	}
	if c.SharedConfigFiles == nil && env("AWS_SHARED_CONFIG_FILE") != "" {
		c.SharedConfigFiles = []string{env("AWS_SHARED_CONFIG_FILE")}
	}
	if c.AssumeRole, err = r.assumeRole(tofu); err != nil {
		return c, err
	}
	if c.WebIdentity, err = r.webIdentity(tofu, env); err != nil {
		return c, err
	}
	c.STSEndpoint = firstOf(r.endpoint("sts", "sts_endpoint"), env("AWS_ENDPOINT_URL_STS"), env("AWS_STS_ENDPOINT"))
	c.IAMEndpoint = firstOf(r.endpoint("iam", "iam_endpoint"), env("AWS_ENDPOINT_URL_IAM"), env("AWS_IAM_ENDPOINT"))
	c.SSOEndpoint = firstOf(r.endpoint("sso", ""), env("AWS_ENDPOINT_URL_SSO"))
	if c.AllowedAccountIDs, err = r.accountList("allowed_account_ids"); err != nil {
		return c, err
	}
	if c.ForbiddenAccountIDs, err = r.accountList("forbidden_account_ids"); err != nil {
		return c, err
	}
	if c.AllowedAccountIDs != nil && c.ForbiddenAccountIDs != nil {
		return c, r.credErr(r.Source("allowed_account_ids"), "allowed_account_ids", "it conflicts with forbidden_account_ids: keep one")
	}
	c.AccountsFrom = firstSource(r, "allowed_account_ids", "forbidden_account_ids")
	c.CustomCABundle = firstOf(r.String("custom_ca_bundle"), env("AWS_CA_BUNDLE"))
	if _, ok := r.Lookup("http_proxy"); ok {
		c.HTTPProxy = ptr(r.String("http_proxy"))
	}
	if _, ok := r.Lookup("https_proxy"); ok {
		c.HTTPSProxy = ptr(r.String("https_proxy"))
	}
	c.UseFIPSEndpoint = r.boolOrEnv("use_fips_endpoint", env("AWS_USE_FIPS_ENDPOINT"))
	c.UseDualStackEndpoint = r.boolOrEnv("use_dualstack_endpoint", env("AWS_USE_DUALSTACK_ENDPOINT"))
	if v := r.Value("max_retries"); v != cty.NilVal {
		bf := v.AsBigFloat()
		n, acc := bf.Int64()
		if acc != 0 || n < 0 || n > 100 {
			return c, r.credErr(r.Source("max_retries"), "max_retries", "want a whole number from 0 to 100")
		}
		c.MaxRetries = int(n)
	}
	c.RetryMode = firstOf(r.String("retry_mode"), env("AWS_RETRY_MODE"))
	if c.RetryMode != "" && c.RetryMode != "standard" && c.RetryMode != "adaptive" {
		return c, r.credErr(orWhere(r.Source("retry_mode"), "AWS_RETRY_MODE"), "retry_mode "+c.RetryMode, "want standard or adaptive")
	}
	c.EC2MetadataEndpoint = firstOf(r.String("ec2_metadata_service_endpoint"), env("AWS_EC2_METADATA_SERVICE_ENDPOINT"), env("AWS_METADATA_URL"))
	c.EC2MetadataEndpointMode = firstOf(r.String("ec2_metadata_service_endpoint_mode"), env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"))
	if m := c.EC2MetadataEndpointMode; m != "" && m != "IPv4" && m != "IPv6" {
		return c, r.credErr(orWhere(r.Source("ec2_metadata_service_endpoint_mode"), "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"), "ec2_metadata_service_endpoint_mode "+m, "want IPv4 or IPv6")
	}
	if _, ok := r.Lookup("skip_metadata_api_check"); ok {
		c.IMDS = "enabled"
		if r.Bool("skip_metadata_api_check") {
			c.IMDS = "disabled"
		}
	}
	return c, nil
}

// assumeRole reads the assume_role block, or tofu's pre-1.6 top-level
// role_arn and its companions.
func (r *Resolved) assumeRole(tofu bool) (*AssumeRole, error) {
	legacy := firstSource(r, "role_arn", "session_name", "external_id", "assume_role_duration_seconds", "assume_role_policy", "assume_role_policy_arns", "assume_role_tags", "assume_role_transitive_tag_keys")
	s, ok := r.Lookup("assume_role")
	if !ok {
		if legacy == "" {
			return nil, nil
		}
		if !tofu {
			return nil, r.credErr(legacy, "role_arn (and the other top-level assume-role arguments)", "terraform 1.11 reads only the assume_role block: write assume_role = { role_arn = ... }, or set binary (input binary, --binary, PRSTATE_BINARY) to tofu, which still reads them")
		}
		ar := &AssumeRole{RoleARN: r.String("role_arn"), ExternalID: r.String("external_id"), Policy: strings.TrimSpace(r.String("assume_role_policy")), SessionName: r.String("session_name"), From: legacy}
		if v := r.Value("assume_role_duration_seconds"); v != cty.NilVal {
			n, _ := v.AsBigFloat().Int64()
			ar.Duration = time.Duration(n) * time.Second
		}
		ar.PolicyARNs = stringsOf(r.Value("assume_role_policy_arns"))
		ar.Tags = mapOf(r.Value("assume_role_tags"))
		ar.TransitiveTagKeys = stringsOf(r.Value("assume_role_transitive_tag_keys"))
		return ar, r.checkRole("assume_role", ar.RoleARN, ar.Duration, ar.Policy, ar.PolicyARNs, ar.SessionName, ar.From)
	}
	where := s.From.String()
	if legacy != "" && !tofu {
		return nil, r.credErr(legacy, "role_arn (and the other top-level assume-role arguments)", "terraform 1.11 reads only the assume_role block: move them into it")
	}
	o := s.Value
	ar := &AssumeRole{
		RoleARN: attrString(o, "role_arn"), ExternalID: attrString(o, "external_id"),
		Policy: strings.TrimSpace(attrString(o, "policy")), PolicyARNs: stringsOf(attrOf(o, "policy_arns")),
		SessionName: attrString(o, "session_name"), SourceIdentity: attrString(o, "source_identity"),
		Tags: mapOf(attrOf(o, "tags")), TransitiveTagKeys: stringsOf(attrOf(o, "transitive_tag_keys")), From: where,
	}
	var err error
	if ar.Duration, err = parseDuration(attrString(o, "duration")); err != nil {
		return nil, r.credErr(where, "assume_role.duration", err.Error())
	}
	if err := r.checkUnknown(o, where, "assume_role", "role_arn", "duration", "external_id", "policy", "policy_arns", "session_name", "source_identity", "tags", "transitive_tag_keys"); err != nil {
		return nil, err
	}
	if v := ar.ExternalID; v != "" && (len(v) < 2 || len(v) > 1224 || !externalIDPattern.MatchString(v)) {
		return nil, r.credErr(where, "assume_role.external_id", "want 2 to 1224 characters of letters, digits and +=,.@:/-")
	}
	if v := ar.SourceIdentity; v != "" && !roleNamePattern.MatchString(v) {
		return nil, r.credErr(where, "assume_role.source_identity", "want 2 to 64 characters of letters, digits and +=,.@-")
	}
	return ar, r.checkRole("assume_role", ar.RoleARN, ar.Duration, ar.Policy, ar.PolicyARNs, ar.SessionName, where)
}

// webIdentity reads assume_role_with_web_identity; tofu fills what it
// leaves unset from AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME,
// AWS_WEB_IDENTITY_TOKEN and AWS_WEB_IDENTITY_TOKEN_FILE, terraform does not.
func (r *Resolved) webIdentity(tofu bool, env func(string) string) (*WebIdentityRole, error) {
	s, ok := r.Lookup("assume_role_with_web_identity")
	if !ok {
		return nil, nil
	}
	where, o := s.From.String(), s.Value
	w := &WebIdentityRole{
		RoleARN: attrString(o, "role_arn"), Policy: strings.TrimSpace(attrString(o, "policy")),
		PolicyARNs: stringsOf(attrOf(o, "policy_arns")), SessionName: attrString(o, "session_name"),
		Token: attrString(o, "web_identity_token"), TokenFile: attrString(o, "web_identity_token_file"), From: where,
	}
	if err := r.checkUnknown(o, where, "assume_role_with_web_identity", "role_arn", "duration", "policy", "policy_arns", "session_name", "web_identity_token", "web_identity_token_file"); err != nil {
		return nil, err
	}
	var err error
	if w.Duration, err = parseDuration(attrString(o, "duration")); err != nil {
		return nil, r.credErr(where, "assume_role_with_web_identity.duration", err.Error())
	}
	if tofu {
		w.RoleARN = firstOf(w.RoleARN, env("AWS_ROLE_ARN"))
		w.SessionName = firstOf(w.SessionName, env("AWS_ROLE_SESSION_NAME"))
		w.Token = firstOf(w.Token, env("AWS_WEB_IDENTITY_TOKEN"))
		w.TokenFile = firstOf(w.TokenFile, env("AWS_WEB_IDENTITY_TOKEN_FILE"))
	}
	switch {
	case w.Token == "" && w.TokenFile == "":
		return nil, r.credErr(where, "assume_role_with_web_identity", "set web_identity_token or web_identity_token_file")
	case w.Token != "" && w.TokenFile != "" && !tofu:
		return nil, r.credErr(where, "assume_role_with_web_identity", "set only one of web_identity_token and web_identity_token_file")
	}
	return w, r.checkRole("assume_role_with_web_identity", w.RoleARN, w.Duration, w.Policy, w.PolicyARNs, w.SessionName, where)
}

// checkRole checks what terraform's schema checks of an assumed role.
func (r *Resolved) checkRole(block, arn string, d time.Duration, policy string, policyARNs []string, session, where string) error {
	switch {
	case arn == "":
		return r.credErr(where, block+".role_arn", "it is required")
	case !roleARNPattern.MatchString(arn):
		return r.credErr(where, block+".role_arn "+arn, "want an IAM role ARN such as arn:aws:iam::123456789012:role/name")
	case d != 0 && (d < 15*time.Minute || d > 12*time.Hour):
		return r.credErr(where, block+".duration", "want 15m to 12h")
	case session != "" && !roleNamePattern.MatchString(session):
		return r.credErr(where, block+".session_name", "want 2 to 64 characters of letters, digits and +=,.@-")
	}
	if policy != "" && !json.Valid([]byte(policy)) {
		return r.credErr(where, block+".policy", "want a JSON policy document")
	}
	for _, p := range policyARNs {
		if !policyARNPattern.MatchString(p) {
			return r.credErr(where, block+".policy_arns "+p, "want an IAM policy ARN")
		}
	}
	return nil
}

// checkUnknown refuses an argument of a nested block prstate does not
// know: it could change the identity, and prstate would not honour it.
func (r *Resolved) checkUnknown(o cty.Value, where, block string, known ...string) error {
	if !o.Type().IsObjectType() {
		return nil
	}
	for name := range o.Type().AttributeTypes() {
		if !slices.Contains(known, name) {
			return r.credErr(where, block+"."+name, "prstate does not know this argument and cannot act as the identity it would give: remove it or tell the prstate maintainers")
		}
	}
	return nil
}

func (r *Resolved) stringList(name string) ([]string, error) {
	v := r.Value(name)
	if v == cty.NilVal {
		return nil, nil
	}
	l := stringsOf(v)
	if len(l) == 0 {
		return nil, r.credErr(r.Source(name), name, "the list is empty")
	}
	return l, nil
}

func (r *Resolved) accountList(name string) ([]string, error) {
	l, err := r.stringList(name)
	for _, a := range l {
		if !accountPattern.MatchString(a) {
			return nil, r.credErr(r.Source(name), name+" "+a, "want 12-digit AWS account IDs")
		}
	}
	return l, err
}

func (r *Resolved) boolOrEnv(name, env string) bool {
	if _, ok := r.Lookup(name); ok {
		return r.Bool(name)
	}
	return strings.EqualFold(env, "true")
}

// credErr is a bad credential setting: exit 2, naming it and where it was
// set.
func (r *Resolved) credErr(where, what, why string) error {
	if where != "" {
		where += ": "
	}
	return configErrorf("%s%s: %s", where, what, why)
}

// firstSource is where the first of names that is set was set.
func firstSource(r *Resolved, names ...string) string {
	for _, n := range names {
		if s := r.Source(n); s != "" {
			return s
		}
	}
	return ""
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 1h or 15m, not %q", s)
	}
	return d, nil
}

func attrOf(o cty.Value, name string) cty.Value {
	if o == cty.NilVal || o.IsNull() || !o.Type().IsObjectType() || !o.Type().HasAttribute(name) {
		return cty.NilVal
	}
	return o.GetAttr(name)
}

func attrString(o cty.Value, name string) string { return stringOf(attrOf(o, name)) }

func stringsOf(v cty.Value) []string {
	if v == cty.NilVal || v.IsNull() || !v.CanIterateElements() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, stringOf(e))
	}
	return out
}

func mapOf(v cty.Value) map[string]string {
	if v == cty.NilVal || v.IsNull() || !v.CanIterateElements() {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		out[k] = stringOf(e)
	}
	return out
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func orWhere(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ptr(s string) *string { return &s }
