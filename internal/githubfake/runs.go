package githubfake

import (
	"fmt"
	"net/http"
	"strconv"
)

// SetRun sets the status of workflow run id: queued, in_progress, completed.
func (s *Server) SetRun(id int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[id] = status
}

// getRun answers GET /repos/{repo}/actions/runs/{id}.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	status, ok := s.runs[id]
	if !ok {
		status, ok = s.AnyRun, s.AnyRun != ""
	}
	s.mu.Unlock()
	if err != nil || !ok {
		notFound(w)
		return
	}
	var conclusion any
	if status == "completed" {
		conclusion = "cancelled"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "name": "apply", "head_branch": "main", "run_number": 17, "run_attempt": 1, "event": "push",
		"status": status, "conclusion": conclusion, "workflow_id": 99,
		"html_url":   fmt.Sprintf("https://github.com/%s/actions/runs/%d", s.Repo, id),
		"created_at": "2026-11-23T01:00:00Z", "updated_at": "2026-11-23T01:05:00Z",
	})
}
