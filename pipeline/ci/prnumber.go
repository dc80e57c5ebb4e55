package ci

import (
	"strconv"
	"strings"

	"github.com/prstate/prstate/pipeline/usage"
)

// MaxPR bounds PR numbers to what GitHub and GitLab hand out with room to spare.
const MaxPR = 1<<31 - 1

// ValidatePR rejects PR numbers GitHub never hands out.
func ValidatePR(pr int) error {
	if pr <= 0 || pr > MaxPR {
		return usage.Errorf("invalid pull request number %d: must be a positive integer", pr)
	}
	return nil
}

// ParsePR parses a PR number given as text (flag, env, payload).
func ParsePR(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, usage.Errorf("invalid pull request number %q: must be a positive integer", s)
	}
	return n, ValidatePR(n)
}
