package testenv

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Faults are per-request probabilities (0..1, summing to at most 1) of
// what a FaultProxy does instead of forwarding plainly.
type Faults struct {
	Drop     float64       // forward, let the server apply it, then drop the response (connection closed)
	Delay    float64       // wait DelayFor, then forward
	Error500 float64       // answer 500 InternalError without forwarding
	Throttle float64       // answer S3 503 SlowDown, or DynamoDB 400 ThrottlingException, without forwarding
	DelayFor time.Duration // default 200ms
	// Serialize forwards one request at a time. moto checks a condition
	// (If-None-Match, If-Match, a DynamoDB ConditionExpression) and then
	// writes, in a threaded server without a lock: two conditional writes
	// can both win. S3 and DynamoDB make them atomic; one request at a
	// time restores that for tests that depend on it.
	Serialize bool
}

// FaultCounts says what a FaultProxy did.
type FaultCounts struct {
	Requests, Dropped, Delayed, Errors500, Throttled, Stalled int64
}

// FaultProxy sits between a client and an S3/DynamoDB endpoint (moto)
// and injects faults: lost responses, delays, server errors, throttling.
type FaultProxy struct {
	// URL is the proxy's base URL: point AWS_ENDPOINT_URL_* at it.
	URL string
	// OnRequest, when set before traffic starts, sees every request
	// (method, path and query, DynamoDB X-Amz-Target, body).
	OnRequest func(r *http.Request, body []byte)
	// OnResponse, when set before traffic starts, sees every forwarded
	// request with the server's status, when its answer arrived.
	OnResponse func(r *http.Request, body []byte, status int, at time.Time)

	target string
	faults Faults
	client *http.Client
	serial sync.Mutex
	n      struct{ requests, dropped, delayed, errors500, throttled, stalled atomic.Int64 }

	stallMu sync.Mutex
	stall   chan struct{} // non-nil while stalled: closed by Resume
}

// Stall makes the proxy stop moving bytes, as a network partition does:
// every request that arrives is held, never forwarded and never answered,
// until the client gives up on it or Resume is called (held requests are
// then forwarded).
func (p *FaultProxy) Stall() {
	p.stallMu.Lock()
	defer p.stallMu.Unlock()
	if p.stall == nil {
		p.stall = make(chan struct{})
	}
}

// Resume ends a Stall.
func (p *FaultProxy) Resume() {
	p.stallMu.Lock()
	defer p.stallMu.Unlock()
	if p.stall != nil {
		close(p.stall)
		p.stall = nil
	}
}

// holdWhileStalled blocks while the proxy is stalled; false when the
// client gave up first.
func (p *FaultProxy) holdWhileStalled(r *http.Request) bool {
	p.stallMu.Lock()
	stall := p.stall
	p.stallMu.Unlock()
	if stall == nil {
		return true
	}
	p.n.stalled.Add(1)
	select {
	case <-stall:
		return true
	case <-r.Context().Done():
		return false
	}
}

// NewFaultProxy starts a proxy to target (http://host:port) for the
// test's lifetime.
func NewFaultProxy(t testing.TB, target string, f Faults) *FaultProxy {
	t.Helper()
	if f.DelayFor == 0 {
		f.DelayFor = 200 * time.Millisecond
	}
	p := &FaultProxy{target: strings.TrimSuffix(target, "/"), faults: f, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Counts returns what the proxy did so far.
func (p *FaultProxy) Counts() FaultCounts {
	return FaultCounts{p.n.requests.Load(), p.n.dropped.Load(), p.n.delayed.Load(), p.n.errors500.Load(), p.n.throttled.Load(), p.n.stalled.Load()}
}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.n.requests.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if !p.holdWhileStalled(r) {
		return
	}
	if p.OnRequest != nil {
		p.OnRequest(r, body)
	}
	dynamo := r.Header.Get("X-Amz-Target") != ""
	f := p.faults
	roll := rand.Float64()
	switch {
	case roll < f.Error500:
		p.n.errors500.Add(1)
		if dynamo {
			writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "injected fault")
		} else {
			writeS3Error(w, http.StatusInternalServerError, "InternalError", "injected fault")
		}
		return
	case roll < f.Error500+f.Throttle:
		p.n.throttled.Add(1)
		if dynamo {
			writeDynamoError(w, http.StatusBadRequest, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
		} else {
			writeS3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		}
		return
	case roll < f.Error500+f.Throttle+f.Delay:
		p.n.delayed.Add(1)
		select {
		case <-time.After(f.DelayFor):
		case <-r.Context().Done():
			return
		}
	case roll < f.Error500+f.Throttle+f.Delay+f.Drop:
		// The server applies the request; its answer never arrives.
		if resp, err := p.forward(r, body); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		p.n.dropped.Add(1)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	}
	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if p.OnResponse != nil {
		p.OnResponse(r, body, resp.StatusCode, time.Now())
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// forward sends the request on to the target unchanged.
func (p *FaultProxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	if p.faults.Serialize {
		p.serial.Lock()
		defer p.serial.Unlock()
		resp, err := p.send(r, body)
		if err != nil {
			return nil, err
		}
		// Read the whole answer while no other request runs.
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, err
	}
	return p.send(r, body)
}

func (p *FaultProxy) send(r *http.Request, body []byte) (*http.Response, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Connection", "Transfer-Encoding", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade":
			continue
		}
		out.Header[k] = vs
	}
	out.Host = r.Host
	out.ContentLength = int64(len(body))
	return p.client.Do(out)
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>`+msg+`</Message><RequestId>faultproxy</RequestId></Error>`)
}

func writeDynamoError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#`+code+`","message":"`+msg+`"}`)
}

// SerialConfig returns an SDK configuration that reaches moto through a
// proxy forwarding one request at a time. moto checks a write's condition
// and then writes without a lock, so two racing conditional writes can both
// win there (never on S3 or DynamoDB); tests of races between conditional
// writes go through this so they test our code, not that moto bug.
func (m *MotoServer) SerialConfig(t testing.TB) aws.Config {
	p := NewFaultProxy(t, m.Endpoint, Faults{Serialize: true})
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(p.URL)
	return cfg
}
