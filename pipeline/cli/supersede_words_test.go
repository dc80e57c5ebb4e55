package cli

import (
	"testing"

	"github.com/prstate/prstate/pipeline/applylock"
)

// TestRelationWords: a re-run of the last applied commit is said as such
// (not "commit cb9fde6 is identical of cb9fde6 ()"), and the others name
// both commits and the comparer.
func TestRelationWords(t *testing.T) {
	t.Parallel()
	a, b := "cb9fde6aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "0a1b2c3bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	for _, c := range []struct {
		v    applylock.Verdict
		want string
	}{
		{applylock.Verdict{Commit: a, Last: applylock.LedgerEntry{SHA: a}, Relation: applylock.RelationIdentical}, "commit cb9fde6 is the last one applied (a re-run)"},
		{applylock.Verdict{Commit: a, Last: applylock.LedgerEntry{SHA: b}, Relation: applylock.RelationAhead, Via: "GitHub compare API"}, "commit cb9fde6 is ahead of 0a1b2c3, the last one applied (by GitHub compare API)"},
		{applylock.Verdict{Commit: a, Last: applylock.LedgerEntry{SHA: b}, Relation: applylock.RelationDiverged}, "commit cb9fde6 diverged from 0a1b2c3, the last one applied"},
	} {
		if got := relationWords(c.v); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
