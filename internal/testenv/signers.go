package testenv

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// SignedCall is one request a SigningRecorder forwarded: which access key
// ID signed it (SigV4's Credential=AKID/date/region/service/aws4_request),
// for which service, and what it asked.
type SignedCall struct {
	Service string // the credential scope's service: s3, dynamodb, sts
	Action  string // STS Action, DynamoDB X-Amz-Target's operation, or the S3 method
	AKID    string // "" for an unsigned request (AssumeRoleWithWebIdentity)
	Status  int
}

// SigningRecorder is a reverse proxy before an AWS endpoint (moto) that
// records which access key signed each request, and the credentials STS
// handed out: the session key ID of every AssumeRole and
// AssumeRoleWithWebIdentity answer, and the ARN of every
// GetCallerIdentity answer.
type SigningRecorder struct {
	// URL is the proxy's base URL: point endpoints (s3, dynamodb, sts) at it.
	URL string

	mu      sync.Mutex
	calls   []SignedCall
	issued  map[string]string // session AKID -> the assumed role's ARN
	callers []string          // GetCallerIdentity ARNs, in order
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request`)

// NewSigningRecorder starts a recorder before target (http://host:port)
// for the test's lifetime.
func NewSigningRecorder(t testing.TB, target string) *SigningRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &SigningRecorder{issued: map[string]string{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = r.response
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		call := r.request(req)
		rec := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(rec, req.WithContext(withCall(req, call)))
		r.mu.Lock()
		call.Status = rec.status
		r.calls = append(r.calls, *call)
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// request reads who signed req and what it asks, leaving its body intact.
func (r *SigningRecorder) request(req *http.Request) *SignedCall {
	c := &SignedCall{}
	if m := credentialRE.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		c.AKID, c.Service = m[1], m[2]
	}
	switch {
	case req.Header.Get("X-Amz-Target") != "":
		_, c.Action, _ = strings.Cut(req.Header.Get("X-Amz-Target"), ".")
		if c.Service == "" {
			c.Service = "dynamodb"
		}
	case req.Method == http.MethodPost && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		c.Action = form.Get("Action")
		if c.Service == "" && strings.HasPrefix(c.Action, "AssumeRole") {
			c.Service = "sts"
		}
	default:
		c.Action = req.Method
	}
	return c
}

// callKey carries the call to ModifyResponse.
type callKey struct{}

func withCall(req *http.Request, c *SignedCall) context.Context {
	return context.WithValue(req.Context(), callKey{}, c)
}

// response reads the credentials and identities STS answers with.
func (r *SigningRecorder) response(resp *http.Response) error {
	c, _ := resp.Request.Context().Value(callKey{}).(*SignedCall)
	if c == nil || c.Service != "sts" || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	var out struct {
		AKID    string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
		Role    string `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
		WebAKID string `xml:"AssumeRoleWithWebIdentityResult>Credentials>AccessKeyId"`
		WebRole string `xml:"AssumeRoleWithWebIdentityResult>AssumedRoleUser>Arn"`
		Caller  string `xml:"GetCallerIdentityResult>Arn"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("recorder: cannot read the STS answer to %s: %w", c.Action, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case out.AKID != "":
		r.issued[out.AKID] = out.Role
	case out.WebAKID != "":
		r.issued[out.WebAKID] = out.WebRole
	case out.Caller != "":
		r.callers = append(r.callers, out.Caller)
	}
	return nil
}

// Calls returns every call so far, in the order their answers came.
func (r *SigningRecorder) Calls() []SignedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SignedCall(nil), r.calls...)
}

// Issued reports whether STS issued akid as a session key through this
// recorder, and for which role.
func (r *SigningRecorder) Issued(akid string) (role string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	role, ok = r.issued[akid]
	return role, ok
}

// Callers returns the ARNs STS answered GetCallerIdentity with, in order.
func (r *SigningRecorder) Callers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.callers...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
