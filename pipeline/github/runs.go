package github

import (
	"context"
	"fmt"
)

// RunCompleted tells whether a workflow run has completed (any conclusion).
// A re-run in progress counts as not completed: the run ID is the same.
func (c *Client) RunCompleted(ctx context.Context, repo string, runID int64) (bool, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return false, err
	}
	run, _, err := c.gh.Actions.GetWorkflowRunByID(ctx, owner, name, runID)
	if err != nil {
		return false, fmt.Errorf("failed to get workflow run %d of %s: %w", runID, repo, err)
	}
	return run.GetStatus() == "completed", nil
}
