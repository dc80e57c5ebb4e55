package applylock

import (
	"github.com/prstate/prstate/pipeline/ci"
)

// relationWords says in a sentence where this run's commit stands
// relative to the last one applied, and who said so.
func relationWords(v Verdict) string {
	this, last := ci.ShortSHA(v.Commit), ci.ShortSHA(v.Last.SHA)
	var s string
	switch v.Relation {
	case RelationIdentical:
		return "commit " + this + " is the last one applied (a re-run)"
	case RelationAhead:
		s = "commit " + this + " is ahead of " + last + ", the last one applied"
	case RelationBehind:
		s = "commit " + this + " is behind " + last + ", the last one applied"
	case RelationDiverged:
		s = "commit " + this + " diverged from " + last + ", the last one applied"
	default:
		s = "commit " + this + " stands " + string(v.Relation) + " to " + last + ", the last one applied"
	}
	if v.Via != "" {
		s += " (by " + v.Via + ")"
	}
	return s
}
