package identity

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/prstate/prstate/pipeline/backend"
)

// transportOptions sets what the block says of TLS and proxies on the
// SDK's HTTP transport, as aws-sdk-go-base's HTTPTransportOptions: the
// environment's HTTP_PROXY, HTTPS_PROXY and NO_PROXY, with the block's
// http_proxy, https_proxy and no_proxy on top (terraform's legacy mode:
// http_proxy also serves HTTPS when nothing names an HTTPS proxy).
func transportOptions(c backend.Credentials, getenv func(string) string) (func(*http.Transport), error) {
	p := proxyConfig{
		http:    envEither(getenv, "HTTP_PROXY", "http_proxy"),
		https:   envEither(getenv, "HTTPS_PROXY", "https_proxy"),
		noProxy: envEither(getenv, "NO_PROXY", "no_proxy"),
	}
	if c.HTTPProxy != nil {
		if _, err := url.Parse(*c.HTTPProxy); err != nil {
			return nil, permanent(fmt.Sprintf("invalid http_proxy %q: %v", *c.HTTPProxy, err), err)
		}
		p.http = *c.HTTPProxy
		if c.LegacyProxy && p.https == "" {
			p.https = *c.HTTPProxy
		}
	}
	if c.HTTPSProxy != nil {
		if _, err := url.Parse(*c.HTTPSProxy); err != nil {
			return nil, permanent(fmt.Sprintf("invalid https_proxy %q: %v", *c.HTTPSProxy, err), err)
		}
		p.https = *c.HTTPSProxy
	}
	if c.NoProxy != "" {
		p.noProxy = c.NoProxy
	}
	return func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if c.Insecure {
			tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the backend's insecure = true asks for it
		}
		tr.Proxy = p.proxy
	}, nil
}

func envEither(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// proxyConfig picks a request's proxy as golang.org/x/net/http/httpproxy
// does: by scheme, none for loopback or a NO_PROXY match.
type proxyConfig struct{ http, https, noProxy string }

func (p proxyConfig) proxy(req *http.Request) (*url.URL, error) {
	raw := p.http
	if req.URL.Scheme == "https" {
		raw = p.https
	}
	if raw == "" || !p.useProxy(req.URL.Hostname(), req.URL.Port()) {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// "proxy.example:3128" without a scheme, as httpproxy reads it
		if u2, err2 := url.Parse("http://" + raw); err2 == nil {
			return u2, nil
		}
		return nil, fmt.Errorf("invalid proxy address %q: %w", raw, err)
	}
	return u, nil
}

// useProxy reports whether a request to host:port goes through a proxy.
func (p proxyConfig) useProxy(host, port string) bool {
	if host == "localhost" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return false
	}
	for _, e := range strings.Split(p.noProxy, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if e == "*" {
			return false
		}
		if _, cidr, err := net.ParseCIDR(e); err == nil {
			if ip := net.ParseIP(host); ip != nil && cidr.Contains(ip) {
				return false
			}
			continue
		}
		ePort := ""
		if h, pt, err := net.SplitHostPort(e); err == nil {
			e, ePort = h, pt
		}
		if ePort != "" && ePort != port {
			continue
		}
		h := strings.ToLower(host)
		if strings.HasPrefix(e, "*.") {
			e = e[1:]
		}
		if h == strings.TrimPrefix(e, ".") || strings.HasSuffix(h, "."+strings.TrimPrefix(e, ".")) {
			return false
		}
	}
	return true
}
