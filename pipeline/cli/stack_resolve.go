package cli

import (
	"path/filepath"
	"strings"
)

// displayDir names a working directory in messages: relative to the
// current directory when it is inside it.
func displayDir(cwd, dir string) string {
	if rel, err := filepath.Rel(cwd, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return filepath.ToSlash(rel)
	}
	return dir
}

// isPRWorkspace recognises the workspaces of isolation workspace, pr-N: a
// workspace selected for a PR job is never production's.
func isPRWorkspace(ws string) bool {
	n, ok := strings.CutPrefix(ws, "pr-")
	return ok && n != "" && n[0] != '0' && strings.Trim(n, "0123456789") == ""
}
