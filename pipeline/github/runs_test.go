package github

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRunCompleted(t *testing.T) {
	t.Parallel()
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/api/v3/repos/acme/infra/actions/runs/1":
			w.Write([]byte(`{"id":1,"status":"completed","conclusion":"cancelled"}`))
		case "/api/v3/repos/acme/infra/actions/runs/2":
			w.Write([]byte(`{"id":2,"status":"in_progress","conclusion":null}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New("tok", srv.URL+"/api/v3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := c.RunCompleted(t.Context(), "acme/infra", 1); !done || err != nil {
		t.Fatalf("run 1: %v, %v", done, err)
	}
	if auth != "Bearer tok" {
		t.Fatalf("Authorization %q", auth)
	}
	if done, err := c.RunCompleted(t.Context(), "acme/infra", 2); done || err != nil {
		t.Fatalf("run 2: %v, %v", done, err)
	}
	if _, err := c.RunCompleted(t.Context(), "acme/infra", 3); err == nil {
		t.Fatal("missing run: no error")
	}
}
