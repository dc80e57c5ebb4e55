package cleanuptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FakePull is one pull request of the fake GitHub.
type FakePull struct {
	Number    int
	Closed    bool
	Merged    bool
	UpdatedAt time.Time
}

// FakeGitHub serves GET /repos/{owner}/{repo}/pulls like GitHub's REST API:
// the state, sort, direction, per_page and page parameters, payloads shaped
// like GitHub's, and Link headers for pagination. It counts requests.
type FakeGitHub struct {
	URL      string
	Token    string
	Requests atomic.Int64

	mu    sync.Mutex
	repo  string
	pulls []FakePull
	pages []string // the query of every request
}

// NewFakeGitHub serves repo's pulls until the test ends.
func NewFakeGitHub(t testing.TB, repo, token string, pulls []FakePull) *FakeGitHub {
	f := &FakeGitHub{repo: repo, Token: token, pulls: append([]FakePull(nil), pulls...)}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/"
	return f
}

// Queries returns the query string of every request so far.
func (f *FakeGitHub) Queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.pages...)
}

func (f *FakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.Requests.Add(1)
	f.mu.Lock()
	f.pages = append(f.pages, r.URL.RawQuery)
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		http.Error(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`, http.StatusUnauthorized)
		return
	}
	if n, ok := strings.CutPrefix(r.URL.Path, "/repos/"+f.repo+"/pulls/"); ok && r.Method == http.MethodGet {
		f.servePull(w, n)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/repos/"+f.repo+"/pulls" {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	if perPage > 100 {
		perPage = 100
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	var list []FakePull
	for _, p := range f.pulls {
		if state == "all" || (state == "closed") == p.Closed {
			list = append(list, p)
		}
	}
	asc := q.Get("direction") == "asc"
	switch q.Get("sort") {
	case "updated":
		sort.SliceStable(list, func(i, j int) bool {
			if asc {
				return list[i].UpdatedAt.Before(list[j].UpdatedAt)
			}
			return list[i].UpdatedAt.After(list[j].UpdatedAt)
		})
	default: // created: by number
		sort.SliceStable(list, func(i, j int) bool { return (list[i].Number < list[j].Number) == asc })
	}
	last := max(1, (len(list)+perPage-1)/perPage)
	lo, hi := min((page-1)*perPage, len(list)), min(page*perPage, len(list))
	link := func(p int, rel string) string {
		u := *r.URL
		v := u.Query()
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf(`<http://%s%s>; rel="%s"`, r.Host, u.RequestURI(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		h := links[0]
		for _, l := range links[1:] {
			h += ", " + l
		}
		w.Header().Set("Link", h)
	}
	out := make([]map[string]any, 0, hi-lo)
	for _, p := range list[lo:hi] {
		out = append(out, pullJSON(f.repo, p))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}

// servePull answers GET /repos/{repo}/pulls/{number}.
func (f *FakeGitHub) servePull(w http.ResponseWriter, num string) {
	n, err := strconv.Atoi(num)
	if err == nil {
		for _, p := range f.pulls {
			if p.Number == n {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_ = json.NewEncoder(w).Encode(pullJSON(f.repo, p))
				return
			}
		}
	}
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}

// pullJSON is a pull request as GitHub's list endpoint returns it (the
// fields a client may read, trimmed of links).
func pullJSON(repo string, p FakePull) map[string]any {
	state := "open"
	var closedAt, mergedAt any
	if p.Closed {
		state = "closed"
		closedAt = p.UpdatedAt.UTC().Format(time.RFC3339)
		if p.Merged {
			mergedAt = closedAt
		}
	}
	created := p.UpdatedAt.Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	return map[string]any{
		"url":                fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", repo, p.Number),
		"id":                 1000000 + p.Number,
		"node_id":            fmt.Sprintf("PR_kwDO%08d", p.Number),
		"html_url":           fmt.Sprintf("https://github.com/%s/pull/%d", repo, p.Number),
		"number":             p.Number,
		"state":              state,
		"locked":             false,
		"title":              fmt.Sprintf("Change %d", p.Number),
		"user":               map[string]any{"login": "octocat", "id": 1, "type": "User"},
		"body":               nil,
		"created_at":         created,
		"updated_at":         p.UpdatedAt.UTC().Format(time.RFC3339),
		"closed_at":          closedAt,
		"merged_at":          mergedAt,
		"merge_commit_sha":   fmt.Sprintf("%040x", p.Number),
		"draft":              false,
		"head":               map[string]any{"label": "acme:feature", "ref": fmt.Sprintf("feature-%d", p.Number), "sha": fmt.Sprintf("%040x", p.Number+1)},
		"base":               map[string]any{"label": "acme:main", "ref": "main", "sha": fmt.Sprintf("%040x", 7)},
		"author_association": "MEMBER",
	}
}
