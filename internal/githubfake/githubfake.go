// Package githubfake is the one httptest fake of the GitHub REST API that
// every test uses, for the calls prstate makes: compare two commits,
// commits-to-pulls, issue comments with their authors (listed in pages,
// created, edited), the token's user (GET /user; 403 for a Bot),
// pull requests (listed in pages, one by number), workflow runs, and the
// repository settings doctor reads (environments, their deployment branch
// policies, the OIDC subject customization: settings.go). Its
// payloads follow the shapes GitHub documents; it counts requests per
// route, and keeps their queries, so tests can check how many calls a step
// made.
package githubfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Route names, for Requests.
const (
	RouteCompare       = "compare"
	RouteCommitPulls   = "commit-pulls"
	RouteListComments  = "list-comments"
	RouteCreateComment = "create-comment"
	RouteEditComment   = "edit-comment"
	RouteListPulls     = "list-pulls"
	RoutePull          = "pull"
	RouteRun           = "run"
	RouteUser          = "user"
)

// Pull is a pull request: what the pulls and commits-to-pulls endpoints
// say of it.
type Pull struct {
	Number         int
	State          string // open, closed
	Merged         bool
	MergeCommitSHA string
	HeadSHA        string // the pull request's last commit (default: derived from its number)
	UpdatedAt      time.Time
}

// StateOf is the state of a pull request closed or not.
func StateOf(closed bool) string {
	if closed {
		return "closed"
	}
	return "open"
}

// Comment is an issue comment as the fake stores it.
type Comment struct {
	ID     int64
	Issue  int
	Body   string
	Author string // login
	By     User   // the author as GitHub describes it
}

// Server fakes api.github.com for one repository.
type Server struct {
	*httptest.Server
	Repo  string // owner/name
	Token string // required as "Bearer <Token>" when set

	mu       sync.Mutex
	parents  map[string][]string
	files    map[string][]string // commit -> the files it changed
	branches map[string]string   // name -> head commit
	pulls    map[string][]Pull
	comments []*Comment
	nextID   int64
	requests map[string]int
	queries  map[string][]string // route -> the query of every request
	failures map[string]int      // route -> HTTP status to answer with
	perPage  int
	prs      []Pull // what the pulls endpoints list
	runs     map[int64]string
	// AnyRun, when set, is the status of every run not given to SetRun.
	AnyRun   string
	settings repoSettings // environments and the OIDC subject (settings.go)
	// Identity is who Token acts as: the author of the comments it
	// creates, and GET /user's answer (403 for a Bot: an installation).
	Identity User
}

// New starts a fake for repo, closed when the test ends.
func New(t testing.TB, repo string) *Server {
	s := &Server{Repo: repo, parents: map[string][]string{}, files: map[string][]string{}, branches: map[string]string{}, pulls: map[string][]Pull{}, requests: map[string]int{}, queries: map[string][]string{}, failures: map[string]int{}, runs: map[int64]string{}, nextID: 1000, perPage: 30, Identity: ActionsBot}
	mux := http.NewServeMux()
	prefix := "/repos/" + repo
	mux.HandleFunc("GET "+prefix+"/compare/{spec}", s.route(RouteCompare, s.compare))
	mux.HandleFunc("GET "+prefix+"/commits/{sha}/pulls", s.route(RouteCommitPulls, s.commitPulls))
	mux.HandleFunc("GET "+prefix+"/issues/{number}/comments", s.route(RouteListComments, s.listComments))
	mux.HandleFunc("POST "+prefix+"/issues/{number}/comments", s.route(RouteCreateComment, s.createComment))
	mux.HandleFunc("PATCH "+prefix+"/issues/comments/{id}", s.route(RouteEditComment, s.editComment))
	mux.HandleFunc("GET "+prefix+"/pulls", s.route(RouteListPulls, s.listPulls))
	mux.HandleFunc("GET "+prefix+"/pulls/{number}", s.route(RoutePull, s.getPull))
	mux.HandleFunc("GET "+prefix+"/actions/runs/{id}", s.route(RouteRun, s.getRun))
	s.settingsRoutes(mux, prefix)
	mux.HandleFunc("GET /user", s.route(RouteUser, s.getUser))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("githubfake: unexpected request %s %s", r.Method, r.URL)
		notFound(w)
	})
	// GitHub Enterprise Server serves the same API under /api/v3.
	root := http.NewServeMux()
	root.Handle("/api/v3/", http.StripPrefix("/api/v3", mux))
	root.Handle("/", mux)
	s.Server = httptest.NewServer(root)
	t.Cleanup(s.Close)
	return s
}

// AddCommit adds a commit with its parents to the repository's history.
func (s *Server) AddCommit(sha string, parents ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parents[sha] = parents
}

// SetCommitFiles sets the files commit sha changed: compare lists the
// files of the commits head has and base has not.
func (s *Server) SetCommitFiles(sha string, files ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[sha] = files
}

// SetBranch points branch at sha; compare resolves branch names as GitHub
// does (compare/main...<sha>).
func (s *Server) SetBranch(name, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.branches[name] = sha
}

// SetPullsForCommit sets what commits/{sha}/pulls answers.
func (s *Server) SetPullsForCommit(sha string, pulls ...Pull) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls[sha] = pulls
}

// AddComment adds an existing comment (someone else's, or an old one) by
// the account login (UserNamed).
func (s *Server) AddComment(issue int, author, body string) int64 {
	return s.AddCommentBy(issue, UserNamed(author), body)
}

// AddCommentBy adds an existing comment written by by.
func (s *Server) AddCommentBy(issue int, by User, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.comments = append(s.comments, &Comment{ID: s.nextID, Issue: issue, Body: body, Author: by.Login, By: by})
	return s.nextID
}

// Comments returns the comments on issue, oldest first.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, *c)
		}
	}
	return out
}

// Fail makes route answer status from now on (0 to stop).
func (s *Server) Fail(route string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[route] = status
}

// Requests counts the requests a route answered.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
}

// AllRequests counts the requests of every route.
func (s *Server) AllRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.requests {
		n += c
	}
	return n
}

// Queries returns the query string of every request of route so far.
func (s *Server) Queries(route string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries[route]...)
}

// ResetRequests zeroes the counts.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = map[string]int{}
	s.queries = map[string][]string{}
}

func (s *Server) route(name string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[name]++
		s.queries[name] = append(s.queries[name], r.URL.RawQuery)
		status := s.failures[name]
		s.mu.Unlock()
		if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		if status == http.StatusForbidden {
			writeJSON(w, status, map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		if status != 0 {
			writeJSON(w, status, map[string]string{"message": http.StatusText(status)})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
}

// ancestors returns sha and every commit reachable from it.
func (s *Server) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		stack = append(stack, s.parents[c]...)
	}
	return seen
}

func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	base, head, ok := strings.Cut(r.PathValue("spec"), "...")
	s.mu.Lock()
	if sha, isBranch := s.branches[base]; isBranch {
		base = sha
	}
	if sha, isBranch := s.branches[head]; isBranch {
		head = sha
	}
	_, okBase := s.parents[base]
	_, okHead := s.parents[head]
	if !ok || !okBase || !okHead {
		s.mu.Unlock()
		notFound(w)
		return
	}
	ab, ah := s.ancestors(base), s.ancestors(head)
	s.mu.Unlock()
	aheadBy, behindBy := 0, 0
	commits := []any{}
	changed := map[string]bool{}
	for _, c := range s.newestFirst(head) {
		if !ab[c] {
			aheadBy++
			commits = append([]any{map[string]any{"sha": c, "url": s.URL + "/repos/" + s.Repo + "/commits/" + c}}, commits...)
			s.mu.Lock()
			for _, f := range s.files[c] {
				changed[f] = true
			}
			s.mu.Unlock()
		}
	}
	files := []any{}
	for _, f := range slices.Sorted(maps.Keys(changed)) {
		if len(files) == 300 { // GitHub lists at most 300 files
			break
		}
		files = append(files, map[string]any{"filename": f, "status": "modified"})
	}
	for c := range ab {
		if !ah[c] {
			behindBy++
		}
	}
	status := "diverged"
	switch {
	case base == head:
		status = "identical"
	case ah[base]:
		status = "ahead"
	case ab[head]:
		status = "behind"
	}
	api := s.URL + "/repos/" + s.Repo
	writeJSON(w, http.StatusOK, map[string]any{
		"url":           api + "/compare/" + base + "..." + head,
		"html_url":      "https://github.com/" + s.Repo + "/compare/" + base + "..." + head,
		"base_commit":   map[string]any{"sha": base, "url": api + "/commits/" + base},
		"status":        status,
		"ahead_by":      aheadBy,
		"behind_by":     behindBy,
		"total_commits": aheadBy,
		"commits":       commits,
		"files":         files,
	})
}

// newestFirst lists sha and its ancestors, each after every commit that
// has it as an ancestor on the walk (a reverse topological order).
func (s *Server) newestFirst(sha string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var post []string
	var walk func(c string)
	walk = func(c string) {
		if seen[c] {
			return
		}
		seen[c] = true
		for _, p := range s.parents[c] {
			walk(p)
		}
		post = append(post, c)
	}
	walk(sha)
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	return post
}

// headSHA is the pull request's head commit.
func (p Pull) headSHA() string {
	if p.HeadSHA != "" {
		return p.HeadSHA
	}
	return fmt.Sprintf("%040x", p.Number+1)
}

func (s *Server) commitPulls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	pulls := s.pulls[r.PathValue("sha")]
	s.mu.Unlock()
	out := []map[string]any{}
	for _, p := range pulls {
		var mergedAt any
		if p.Merged {
			mergedAt = "2026-01-02T03:04:05Z"
		}
		out = append(out, map[string]any{
			"url":              fmt.Sprintf("%s/repos/%s/pulls/%d", s.URL, s.Repo, p.Number),
			"number":           p.Number,
			"state":            p.State,
			"merged_at":        mergedAt,
			"merge_commit_sha": p.MergeCommitSHA,
			"head":             map[string]any{"sha": p.headSHA()},
			"html_url":         fmt.Sprintf("https://github.com/%s/pull/%d", s.Repo, p.Number),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	issue, err := strconv.Atoi(r.PathValue("number"))
	if err != nil {
		notFound(w)
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	perPage := s.perPage
	s.mu.Unlock()
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	page := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	all := s.Comments(issue)
	lo, hi := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	if hi < len(all) {
		next := fmt.Sprintf("%s/repos/%s/issues/%d/comments?page=%d&per_page=%d", s.URL, s.Repo, issue, page+1, perPage)
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next))
	}
	out := []map[string]any{}
	for _, c := range all[lo:hi] {
		out = append(out, s.commentJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) commentJSON(c Comment) map[string]any {
	return map[string]any{
		"id":         c.ID,
		"node_id":    "IC_" + strconv.FormatInt(c.ID, 10),
		"url":        fmt.Sprintf("%s/repos/%s/issues/comments/%d", s.URL, s.Repo, c.ID),
		"html_url":   fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", s.Repo, c.Issue, c.ID),
		"issue_url":  fmt.Sprintf("%s/repos/%s/issues/%d", s.URL, s.Repo, c.Issue),
		"body":       c.Body,
		"user":       c.By.json(),
		"created_at": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339),
	}
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	issue, err := strconv.Atoi(r.PathValue("number"))
	var in struct {
		Body string `json:"body"`
	}
	if err != nil || json.NewDecoder(r.Body).Decode(&in) != nil || in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	s.mu.Lock()
	me := s.Identity
	s.mu.Unlock()
	id := s.AddCommentBy(issue, me, in.Body)
	writeJSON(w, http.StatusCreated, s.commentJSON(Comment{ID: id, Issue: issue, Body: in.Body, Author: me.Login, By: me}))
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct {
		Body string `json:"body"`
	}
	if err != nil || json.NewDecoder(r.Body).Decode(&in) != nil || in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	s.mu.Lock()
	var found *Comment
	for _, c := range s.comments {
		if c.ID == id {
			c.Body = in.Body
			found = c
		}
	}
	s.mu.Unlock()
	if found == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.commentJSON(*found))
}
