package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// motoIAMFreeRequests is how many requests a MotoIAM server answers
// without authentication: the three that create its admin user.
const motoIAMFreeRequests = 3

// MotoIAMServer is a moto_server of its own that enforces IAM
// (INITIAL_NO_AUTH_ACTION_COUNT): every request after the first three must
// be signed with the keys of a user it knows and be allowed by that user's
// policies. moto judges S3 actions against object and bucket ARNs but
// ignores policy conditions, and judges DynamoDB actions against resource
// "*" only.
type MotoIAMServer struct {
	// Endpoint is the server's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// Admin is the configuration of a user allowed everything, for setup.
	Admin aws.Config
}

// Keys are an IAM user's access keys.
type Keys struct{ AccessKeyID, SecretAccessKey string }

// MotoIAM starts a moto_server that enforces IAM for this test alone
// (stopped at its end) and creates an admin user with the requests it
// answers unauthenticated.
func MotoIAM(t testing.TB) *MotoIAMServer {
	t.Helper()
	SkipShort(t, "moto")
	path := Tool(t, "moto_server")
	var endpoint string
	var stop func()
	var errs []string
	for range motoStartTries {
		var err error
		if endpoint, stop, err = launchMotoEnv(path, "INITIAL_NO_AUTH_ACTION_COUNT="+strconv.Itoa(motoIAMFreeRequests)); err == nil {
			break
		}
		errs = append(errs, err.Error())
	}
	if stop == nil {
		t.Fatalf("failed to start moto_server with IAM enforced: %s", strings.Join(errs, "; "))
	}
	t.Cleanup(stop)
	m := &MotoIAMServer{Endpoint: endpoint}
	admin, err := m.createUser(t.Context(), aws.Credentials{}, "prstate-test-admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if err != nil {
		t.Fatalf("failed to create the admin user: %v", err)
	}
	m.Admin = m.Config(admin)
	return m
}

// Config is an SDK configuration that signs with keys.
func (m *MotoIAMServer) Config(k Keys) aws.Config {
	return aws.Config{
		Region:       motoRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
		BaseEndpoint: aws.String(m.Endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// S3 and DynamoDB return clients that sign with keys.
func (m *MotoIAMServer) S3(k Keys) *s3.Client { return awsstore.NewS3Client(m.Config(k)) }

// DynamoDB returns a DynamoDB client that signs with keys.
func (m *MotoIAMServer) DynamoDB(k Keys) *dynamodb.Client {
	return awsstore.NewDynamoDBClient(m.Config(k))
}

// Env is what a child process (prstate, terraform) needs to reach the
// server as the user with keys.
func (m *MotoIAMServer) Env(k Keys) []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + m.Endpoint,
		"AWS_ENDPOINT_URL_DYNAMODB=" + m.Endpoint,
		"AWS_ACCESS_KEY_ID=" + k.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + k.SecretAccessKey,
		"AWS_REGION=" + motoRegion,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// User creates an IAM user whose only permissions are the inline policy
// (a JSON document) and returns its access keys.
func (m *MotoIAMServer) User(t testing.TB, name, policy string) Keys {
	t.Helper()
	admin, err := m.Admin.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.createUser(t.Context(), admin, name, policy)
	if err != nil {
		t.Fatalf("failed to create IAM user %s: %v", name, err)
	}
	return k
}

// createUser creates the user, attaches policy inline and makes an access
// key, signing as signer (unsigned when it has no keys).
func (m *MotoIAMServer) createUser(ctx context.Context, signer aws.Credentials, name, policy string) (Keys, error) {
	if _, err := m.iamCall(ctx, signer, url.Values{"Action": {"CreateUser"}, "UserName": {name}}); err != nil {
		return Keys{}, err
	}
	if _, err := m.iamCall(ctx, signer, url.Values{"Action": {"PutUserPolicy"}, "UserName": {name}, "PolicyName": {name}, "PolicyDocument": {policy}}); err != nil {
		return Keys{}, err
	}
	body, err := m.iamCall(ctx, signer, url.Values{"Action": {"CreateAccessKey"}, "UserName": {name}})
	if err != nil {
		return Keys{}, err
	}
	var out struct {
		Key struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
		} `xml:"CreateAccessKeyResult>AccessKey"`
	}
	if err := xml.Unmarshal(body, &out); err != nil || out.Key.AccessKeyID == "" {
		return Keys{}, fmt.Errorf("failed to read the access key of %s: %v: %s", name, err, body)
	}
	return Keys{AccessKeyID: out.Key.AccessKeyID, SecretAccessKey: out.Key.SecretAccessKey}, nil
}

// iamCall sends one IAM Query API request (the SDK's IAM module is not a
// dependency of this repository; the request is small enough by hand).
func (m *MotoIAMServer) iamCall(ctx context.Context, signer aws.Credentials, form url.Values) ([]byte, error) {
	form.Set("Version", "2010-05-08")
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+"/", strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("failed to build IAM %s: %w", form.Get("Action"), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if signer.AccessKeyID != "" {
		if err := v4.NewSigner().SignHTTP(ctx, signer, req, hex.EncodeToString(sum[:]), "iam", motoRegion, time.Now()); err != nil {
			return nil, fmt.Errorf("failed to sign IAM %s: %w", form.Get("Action"), err)
		}
	} else {
		// moto routes by the credential scope's service even when it does
		// not check the signature.
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=none/20260101/"+motoRegion+"/iam/aws4_request, SignedHeaders=host, Signature=none")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to send IAM %s: %w", form.Get("Action"), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("failed to read the answer to IAM %s: %w", form.Get("Action"), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("IAM %s: %d: %s", form.Get("Action"), resp.StatusCode, bytes.TrimSpace(out))
	}
	return out, nil
}

// launchMotoEnv is launchMoto with extra environment for the server.
func launchMotoEnv(path string, env ...string) (string, func(), error) {
	return launchMotoCmd(path, func(cmd *exec.Cmd) {
		cmd.Env = append(cmd.Environ(), env...)
	})
}

// Role creates an IAM role that the user trustedUser may assume (moto
// does not read an account's root as a trust principal, so the user is
// named), whose only permissions are the inline policy, and returns its
// ARN. Sessions of the role are judged by its policy.
func (m *MotoIAMServer) Role(t testing.TB, name, trustedUser, policy string) string {
	t.Helper()
	admin, err := m.Admin.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/%s"},"Action":"sts:AssumeRole"}]}`, motoAccount, trustedUser)
	if _, err := m.iamCall(t.Context(), admin, url.Values{"Action": {"CreateRole"}, "RoleName": {name}, "AssumeRolePolicyDocument": {trust}}); err != nil {
		t.Fatalf("failed to create IAM role %s: %v", name, err)
	}
	if _, err := m.iamCall(t.Context(), admin, url.Values{"Action": {"PutRolePolicy"}, "RoleName": {name}, "PolicyName": {name}, "PolicyDocument": {policy}}); err != nil {
		t.Fatalf("failed to put the policy of IAM role %s: %v", name, err)
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", motoAccount, name)
}

// motoAccount is the account moto puts everything in.
const motoAccount = "123456789012"
