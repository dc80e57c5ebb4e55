package applylock

import (
	"context"
	"strings"
	"testing"
)

type completedRuns map[string]bool

func (c completedRuns) RunCompleted(_ context.Context, repo string, _ int64) (bool, error) {
	return c[strings.ToLower(repo)], nil
}

// A forged record naming a completed run of another repository must not
// count as a completed holder.
func TestOwnRepositoryIgnoresOtherRepositories(t *testing.T) {
	runs := OwnRepository(completedRuns{"octo/app": true, "evil/other": true}, "octo/app")
	for repo, want := range map[string]bool{"octo/app": true, "Octo/App": true, "evil/other": false, "": false} {
		got, err := runs.RunCompleted(context.Background(), repo, 1)
		if err != nil || got != want {
			t.Errorf("RunCompleted(%q) = %v, %v; want %v", repo, got, err, want)
		}
	}
	if OwnRepository(nil, "octo/app") != nil {
		t.Error("OwnRepository(nil) is not nil")
	}
}
