package applylock

import (
	"testing"
)

// TestRelationWords: a re-run of the last applied commit is said as such
// (not "commit cb9fde6 is identical of cb9fde6 ()"), and the others name
// both commits and the comparer.
func TestRelationWords(t *testing.T) {
	t.Parallel()
	a, b := "cb9fde6aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "0a1b2c3bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	for _, c := range []struct {
		v    Verdict
		want string
	}{
		{Verdict{Commit: a, Last: LedgerEntry{SHA: a}, Relation: RelationIdentical}, "commit cb9fde6 is the last one applied (a re-run)"},
		{Verdict{Commit: a, Last: LedgerEntry{SHA: b}, Relation: RelationAhead, Via: "GitHub compare API"}, "commit cb9fde6 is ahead of 0a1b2c3, the last one applied (by GitHub compare API)"},
		{Verdict{Commit: a, Last: LedgerEntry{SHA: b}, Relation: RelationDiverged}, "commit cb9fde6 diverged from 0a1b2c3, the last one applied"},
	} {
		if got := relationWords(c.v); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
