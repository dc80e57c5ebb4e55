// Package identity builds the AWS SDK configuration prstate acts with from
// the backend's credential settings (backend.Credentials), with the
// precedence terraform's and tofu's S3 backend give them over the
// environment (hashicorp/aws-sdk-go-base v2):
//
//  1. access_key/secret_key/token in the block win over every other source;
//  2. else a profile in the block wins over AWS_PROFILE and over the
//     environment's keys; else the SDK's default chain (AWS_ACCESS_KEY_ID,
//     AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, AWS_PROFILE and the
//     shared files, the container and EC2 instance roles), with
//     assume_role_with_web_identity replacing what that chain found;
//  3. assume_role is chained on top of whichever of these gave the base
//     credentials, its STS calls signed by them and sent to sts_region and
//     endpoints.sts.
//
// It also says how the identity was reached (Session.How), asks STS who
// it is (Session.Caller) and applies allowed_account_ids and
// forbidden_account_ids (Session.CheckAccount).
package identity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/logging"

	"github.com/prstate/prstate/pipeline/backend"
)

// DefaultMaxAttempts is how many times one request is tried when neither
// max_retries nor AWS_MAX_ATTEMPTS says: more than the SDK's 3 (terraform's
// S3 backend makes 5), so a job rides out throttling and lost connections.
const DefaultMaxAttempts = 8

// BaseTimeout bounds finding the base credentials: with none in the
// environment the SDK's chain ends asking the EC2 instance metadata
// service, which a runner outside EC2 never answers.
const BaseTimeout = 3 * time.Second

// Options are what Open reads besides the credential settings.
type Options struct {
	Region string              // the backend's region ("" leaves the SDK's choice)
	Getenv func(string) string // the environment the SDK reads (os.Getenv)
}

// Session is the SDK configuration prstate acts with, and how it got there.
type Session struct {
	Config aws.Config
	creds  backend.Credentials
	how    string
	sts    *sts.Client
}

// Open builds the configuration and retrieves its credentials once, so a
// missing or unusable identity fails here: a *storage.Error that is
// permanent (exit 2), one line naming the likely cause; the SDK's own
// text only under --debug.
func Open(ctx context.Context, c backend.Credentials, o Options) (*Session, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	opts, err := loadOptions(c, o)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, loadError(c, err)
	}
	// The STS and SSO endpoints of the block served the credential
	// providers built above; S3 and DynamoDB clients resolve their own.
	cfg.EndpointResolverWithOptions = nil //nolint:staticcheck // see credentialsEndpoints
	s := &Session{Config: cfg, creds: c}

	how, err := s.base(ctx, o.Getenv)
	if err != nil {
		return nil, err
	}
	if ar := c.AssumeRole; ar != nil {
		p := stscreds.NewAssumeRoleProvider(s.stsClient(), ar.RoleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName, ao.Duration = ar.SessionName, ar.Duration
			if ar.ExternalID != "" {
				ao.ExternalID = aws.String(ar.ExternalID)
			}
			if ar.Policy != "" {
				ao.Policy = aws.String(ar.Policy)
			}
			ao.PolicyARNs = policyDescriptors(ar.PolicyARNs)
			for k, v := range ar.Tags {
				ao.Tags = append(ao.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			ao.TransitiveTagKeys = ar.TransitiveTagKeys
			if ar.SourceIdentity != "" {
				ao.SourceIdentity = aws.String(ar.SourceIdentity)
			}
		})
		s.Config.Credentials = aws.NewCredentialsCache(p)
		if _, err := s.Config.Credentials.Retrieve(ctx); err != nil {
			return nil, stsError(fmt.Sprintf("cannot assume role %s (assume_role, %s) with %s", ar.RoleARN, ar.From, how), "sts:AssumeRole", err)
		}
		how = fmt.Sprintf("assume_role %s from %s, chained from %s", ar.RoleARN, ar.From, how)
	}
	s.how = how
	s.sts = s.stsClient()
	return s, nil
}

// base retrieves the base credentials (static keys, the SDK's chain, or
// the web identity role) within BaseTimeout, and says where they came from.
func (s *Session) base(ctx context.Context, getenv func(string) string) (string, error) {
	c := s.creds
	if c.AccessKey == "" && c.WebIdentity != nil {
		w := c.WebIdentity
		anon := s.Config.Copy()
		anon.Credentials = nil // AssumeRoleWithWebIdentity is not signed
		client := sts.NewFromConfig(anon, s.stsOptions)
		p := stscreds.NewWebIdentityRoleProvider(client, w.RoleARN, webToken{w}, func(wo *stscreds.WebIdentityRoleOptions) {
			wo.RoleSessionName, wo.Duration = w.SessionName, w.Duration
			if w.Policy != "" {
				wo.Policy = aws.String(w.Policy)
			}
			wo.PolicyARNs = policyDescriptors(w.PolicyARNs)
		})
		s.Config.Credentials = aws.NewCredentialsCache(p)
		if _, err := s.Config.Credentials.Retrieve(ctx); err != nil {
			return "", stsError(fmt.Sprintf("cannot assume role %s with a web identity (assume_role_with_web_identity, %s)", w.RoleARN, w.From), "sts:AssumeRoleWithWebIdentity", err)
		}
		return fmt.Sprintf("assume_role_with_web_identity %s from %s", w.RoleARN, w.From), nil
	}
	if s.Config.Credentials == nil {
		return "", missing(c, getenv, errors.New("no credentials provider"))
	}
	bctx, cancel := context.WithTimeout(ctx, BaseTimeout)
	defer cancel()
	v, err := s.Config.Credentials.Retrieve(bctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", missing(c, getenv, err)
	}
	return describeSource(c, v.Source, getenv), nil
}

// loadOptions are the SDK options of the settings, as aws-sdk-go-base's
// commonLoadOptions and getCredentialsProvider set them.
func loadOptions(c backend.Credentials, o Options) ([]func(*config.LoadOptions) error, error) {
	opts := []func(*config.LoadOptions) error{
		// The SDK's warnings (an IMDSv1 fallback, a skipped checksum) are
		// not lines a job should show; failures are reported by prstate.
		config.WithLogger(logging.Nop{}),
		config.WithEndpointResolverWithOptions(credentialsEndpoints(c)), //nolint:staticcheck // what aws-sdk-go-base does for the credential providers' STS and SSO clients
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	switch {
	case c.MaxRetries > 0:
		opts = append(opts, config.WithRetryMaxAttempts(c.MaxRetries))
	case o.Getenv("AWS_MAX_ATTEMPTS") == "":
		opts = append(opts, config.WithRetryMaxAttempts(DefaultMaxAttempts))
	}
	if c.RetryMode != "" {
		opts = append(opts, config.WithRetryMode(aws.RetryMode(c.RetryMode)))
	}
	if c.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.Token)))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if len(c.SharedCredentialsFiles) > 0 {
		files, err := expandAll(c.SharedCredentialsFiles)
		if err != nil {
			return nil, err
		}
		opts = append(opts, config.WithSharedCredentialsFiles(files))
	}
	if len(c.SharedConfigFiles) > 0 {
		files, err := expandAll(c.SharedConfigFiles)
		if err != nil {
			return nil, err
		}
		opts = append(opts, config.WithSharedConfigFiles(files))
	}
	transport, err := transportOptions(c, o.Getenv)
	if err != nil {
		return nil, err
	}
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(transport)))
	if c.CustomCABundle != "" {
		f, err := expand(c.CustomCABundle)
		if err != nil {
			return nil, err
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, permanent(fmt.Sprintf("cannot read custom_ca_bundle %s: %v", c.CustomCABundle, unwrapPath(err)), err)
		}
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(pem)))
	}
	if c.EC2MetadataEndpoint != "" {
		opts = append(opts, config.WithEC2IMDSEndpoint(c.EC2MetadataEndpoint))
	}
	if c.EC2MetadataEndpointMode != "" {
		var m imds.EndpointModeState
		if err := m.SetFromString(c.EC2MetadataEndpointMode); err != nil {
			return nil, permanent("invalid ec2_metadata_service_endpoint_mode "+c.EC2MetadataEndpointMode, err)
		}
		opts = append(opts, config.WithEC2IMDSEndpointMode(m))
	}
	switch c.IMDS {
	case "disabled":
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	case "enabled":
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientEnabled))
	}
	if c.UseFIPSEndpoint {
		opts = append(opts, config.WithUseFIPSEndpoint(aws.FIPSEndpointStateEnabled))
	}
	if c.UseDualStackEndpoint {
		opts = append(opts, config.WithUseDualStackEndpoint(aws.DualStackEndpointStateEnabled))
	}
	return opts, nil
}

// credentialsEndpoints points the credential providers' own STS and SSO
// clients (a profile's role_arn, AWS_ROLE_ARN, sso_session) at the
// block's endpoints.sts and endpoints.sso, STS signed for sts_region.
func credentialsEndpoints(c backend.Credentials) aws.EndpointResolverWithOptions { //nolint:staticcheck // see loadOptions
	return aws.EndpointResolverWithOptionsFunc(func(service, region string, _ ...any) (aws.Endpoint, error) { //nolint:staticcheck // see loadOptions
		switch {
		case service == sts.ServiceID && c.STSEndpoint != "":
			if c.STSRegion != "" {
				region = c.STSRegion
			}
			return aws.Endpoint{URL: c.STSEndpoint, Source: aws.EndpointSourceCustom, SigningRegion: region}, nil //nolint:staticcheck // see loadOptions
		case service == "SSO" && c.SSOEndpoint != "":
			return aws.Endpoint{URL: c.SSOEndpoint, Source: aws.EndpointSourceCustom, SigningRegion: region}, nil //nolint:staticcheck // see loadOptions
		}
		return aws.Endpoint{}, &aws.EndpointNotFoundError{} //nolint:staticcheck // see loadOptions
	})
}

// stsOptions sends STS calls to sts_region and endpoints.sts.
func (s *Session) stsOptions(o *sts.Options) {
	if s.creds.STSRegion != "" {
		o.Region = s.creds.STSRegion
	}
	if s.creds.STSEndpoint != "" {
		o.BaseEndpoint = aws.String(s.creds.STSEndpoint)
	}
}

func (s *Session) stsClient() *sts.Client { return sts.NewFromConfig(s.Config, s.stsOptions) }

// webToken reads the web identity token of assume_role_with_web_identity.
type webToken struct{ w *backend.WebIdentityRole }

func (t webToken) GetIdentityToken() ([]byte, error) {
	if t.w.Token != "" {
		return []byte(t.w.Token), nil
	}
	f, err := expand(t.w.TokenFile)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("cannot read web_identity_token_file %s: %w", t.w.TokenFile, unwrapPath(err))
	}
	return b, nil
}

func policyDescriptors(arns []string) []ststypes.PolicyDescriptorType {
	var out []ststypes.PolicyDescriptorType
	for _, a := range arns {
		out = append(out, ststypes.PolicyDescriptorType{Arn: aws.String(a)})
	}
	return out
}

// expand resolves a leading ~ as aws-sdk-go-base does.
func expand(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", permanent("cannot expand "+p+": no home directory", err)
		}
		return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
	}
	return p, nil
}

func expandAll(ps []string) ([]string, error) {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		e, err := expand(p)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
