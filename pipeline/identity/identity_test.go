package identity

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/storage"
)

// fakeSTS answers AssumeRole with a session key (or AccessDenied) and
// records each call's Action and SigV4 credential scope.
type fakeSTS struct {
	deny  bool
	mu    sync.Mutex
	calls []string // "Action AKID/date/region/service"
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	auth := r.Header.Get("Authorization")
	_, scope, _ := strings.Cut(auth, "Credential=")
	scope, _, _ = strings.Cut(scope, "/aws4_request")
	f.mu.Lock()
	f.calls = append(f.calls, form.Get("Action")+" "+scope)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch {
	case f.deny:
		w.WriteHeader(403)
		io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	case form.Get("Action") == "AssumeRole":
		io.WriteString(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIASESSION</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`)
	case form.Get("Action") == "GetCallerIdentity":
		io.WriteString(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><UserId>AROA:s</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
	}
}

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// TestOpenAssumeRole: static keys in the block sign AssumeRole, sent to
// endpoints.sts and signed for sts_region; the session key signs the
// rest; How names the role, where it was set and the base.
func TestOpenAssumeRole(t *testing.T) {
	t.Parallel()
	f := &fakeSTS{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := backend.Credentials{AccessKey: "AKIABLOCK", SecretKey: "x", StaticFrom: "infra/main.tf:4", STSEndpoint: srv.URL, STSRegion: "eu-west-1",
		AssumeRole: &backend.AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/r", SessionName: "s", From: "infra/main.tf:6"}}
	s, err := Open(t.Context(), c, Options{Region: "us-east-1", Getenv: env(map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "e"})})
	if err != nil {
		t.Fatal(err)
	}
	who, err := s.Caller(t.Context())
	if err != nil || who.Account != "123456789012" || who.ARN != "arn:aws:sts::123456789012:assumed-role/r/s" {
		t.Fatalf("caller %+v, %v", who, err)
	}
	want := []string{"AssumeRole AKIABLOCK/*/eu-west-1/sts", "GetCallerIdentity ASIASESSION/*/eu-west-1/sts"}
	if len(f.calls) != 2 {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	for i, c := range f.calls {
		parts := strings.Split(c, "/")
		if len(parts) == 4 {
			parts[1] = "*"
		}
		if got := strings.Join(parts, "/"); got != want[i] {
			t.Errorf("call %d: %s, want %s", i, got, want[i])
		}
	}
	if got := s.How(); got != "assume_role arn:aws:iam::123456789012:role/r from infra/main.tf:6, chained from the static access_key from infra/main.tf:4" {
		t.Errorf("How = %q", got)
	}
}

// TestOpenAssumeRoleDenied: a role the base identity may not assume is a
// permanent error (exit 2) naming the role and sts:AssumeRole, not the
// SDK's text.
func TestOpenAssumeRoleDenied(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&fakeSTS{deny: true})
	t.Cleanup(srv.Close)
	c := backend.Credentials{AccessKey: "AKIABLOCK", SecretKey: "x", StaticFrom: "infra/main.tf:4", STSEndpoint: srv.URL,
		AssumeRole: &backend.AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/r", From: "infra/main.tf:6"}}
	_, err := Open(t.Context(), c, Options{Region: "us-east-1", Getenv: env(nil)})
	var se *storage.Error
	if !errors.As(err, &se) || !se.Permanent || se.ExitCode() != 2 {
		t.Fatalf("got %v, want a permanent storage error", err)
	}
	if want := "cannot assume role arn:aws:iam::123456789012:role/r (assume_role, infra/main.tf:6) with the static access_key from infra/main.tf:4: access denied (sts:AssumeRole)"; err.Error() != want {
		t.Errorf("error %q\nwant %q", err, want)
	}
}

// TestUseProxy: NO_PROXY as golang.org/x/net/http/httpproxy reads it.
func TestUseProxy(t *testing.T) {
	t.Parallel()
	p := proxyConfig{noProxy: "internal.example, .corp, 10.0.0.0/8, s3.example:8443"}
	for host, want := range map[string]bool{
		"127.0.0.1": false, "localhost": false, "internal.example": false, "a.internal.example": false,
		"x.corp": false, "corp": false, "10.1.2.3": false, "sts.amazonaws.com": true, "11.0.0.1": true,
	} {
		if got := p.useProxy(host, "443"); got != want {
			t.Errorf("useProxy(%s) = %v, want %v", host, got, want)
		}
	}
	if p.useProxy("s3.example", "8443") || !p.useProxy("s3.example", "443") {
		t.Error("a NO_PROXY entry with a port matches that port only")
	}
	// terraform's legacy mode: http_proxy serves HTTPS when nothing names
	// an HTTPS proxy; tofu's does not.
	hp := "http://proxy:3128"
	for _, legacy := range []bool{true, false} {
		opts, err := transportOptions(backend.Credentials{HTTPProxy: &hp, LegacyProxy: legacy}, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		tr := &http.Transport{}
		opts(tr)
		req, _ := http.NewRequest("GET", "https://sts.amazonaws.com/", nil)
		u, _ := tr.Proxy(req)
		if got := u != nil; got != legacy {
			t.Errorf("legacy %v: HTTPS request proxied %v", legacy, got)
		}
	}
}
