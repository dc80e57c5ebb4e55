package github

import (
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
)

// RunCompleted against GitHub Enterprise Server's /api/v3, with the token.
func TestRunCompleted(t *testing.T) {
	t.Parallel()
	fake := githubfake.New(t, "acme/infra")
	fake.Token = "tok" // any other Authorization is refused
	fake.SetRun(1, "completed")
	fake.SetRun(2, "in_progress")
	c, err := New("tok", fake.URL+"/api/v3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := c.RunCompleted(t.Context(), "acme/infra", 1); !done || err != nil {
		t.Fatalf("run 1: %v, %v", done, err)
	}
	if done, err := c.RunCompleted(t.Context(), "acme/infra", 2); done || err != nil {
		t.Fatalf("run 2: %v, %v", done, err)
	}
	if _, err := c.RunCompleted(t.Context(), "acme/infra", 3); err == nil {
		t.Fatal("missing run: no error")
	}
	if n := fake.Requests(githubfake.RouteRun); n != 3 {
		t.Fatalf("%d requests", n)
	}
}
