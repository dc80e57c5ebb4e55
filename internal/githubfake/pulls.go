package githubfake

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AddPulls adds pull requests to what the pulls endpoints list (State ""
// is open).
func (s *Server) AddPulls(pulls ...Pull) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pulls {
		if p.State == "" {
			p.State = "open"
		}
		s.prs = append(s.prs, p)
	}
}

// listPulls answers GET /repos/{repo}/pulls: the state, sort, direction,
// per_page and page parameters, and Link headers for pagination.
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	s.mu.Lock()
	var list []Pull
	for _, p := range s.prs {
		if state == "all" || state == p.State {
			list = append(list, p)
		}
	}
	s.mu.Unlock()
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
		u := url.URL{Path: r.URL.Path}
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, s.URL, u.RequestURI(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := make([]map[string]any, 0, hi-lo)
	for _, p := range list[lo:hi] {
		out = append(out, s.pullJSON(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// getPull answers GET /repos/{repo}/pulls/{number}.
func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("number"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		for _, p := range s.prs {
			if p.Number == n {
				writeJSON(w, http.StatusOK, s.pullJSON(p))
				return
			}
		}
	}
	notFound(w)
}

// pullJSON is a pull request as GitHub's pulls endpoints return it (the
// fields a client may read, trimmed of links).
func (s *Server) pullJSON(p Pull) map[string]any {
	var closedAt, mergedAt any
	if p.State == "closed" {
		closedAt = p.UpdatedAt.UTC().Format(time.RFC3339)
		if p.Merged {
			mergedAt = closedAt
		}
	}
	sha := p.MergeCommitSHA
	if sha == "" {
		sha = fmt.Sprintf("%040x", p.Number)
	}
	return map[string]any{
		"url":                fmt.Sprintf("%s/repos/%s/pulls/%d", s.URL, s.Repo, p.Number),
		"id":                 1000000 + p.Number,
		"node_id":            fmt.Sprintf("PR_kwDO%08d", p.Number),
		"html_url":           fmt.Sprintf("https://github.com/%s/pull/%d", s.Repo, p.Number),
		"number":             p.Number,
		"state":              p.State,
		"locked":             false,
		"title":              fmt.Sprintf("Change %d", p.Number),
		"user":               map[string]any{"login": "octocat", "id": 1, "type": "User"},
		"body":               nil,
		"created_at":         p.UpdatedAt.Add(-72 * time.Hour).UTC().Format(time.RFC3339),
		"updated_at":         p.UpdatedAt.UTC().Format(time.RFC3339),
		"closed_at":          closedAt,
		"merged_at":          mergedAt,
		"merge_commit_sha":   sha,
		"draft":              false,
		"head":               map[string]any{"label": "acme:feature", "ref": fmt.Sprintf("feature-%d", p.Number), "sha": p.headSHA()},
		"base":               map[string]any{"label": "acme:main", "ref": "main", "sha": fmt.Sprintf("%040x", 7)},
		"author_association": "MEMBER",
	}
}
