package cli

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prstate/prstate/pipeline/statekey"
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

// prKeyMatcher recognises the keys the key template renders for a pull
// request, whatever the production key: a key an earlier init recorded
// that looks like one is not taken for production's (a production key
// that merely looks like one is refused too, which asks for the key
// instead of guessing).
func prKeyMatcher(template string) func(string) bool {
	if template == "" {
		template = statekey.DefaultKeyTemplate
	}
	var res []*regexp.Regexp
	for _, t := range []string{template, strings.TrimPrefix(strings.ReplaceAll(template, "{dir}/", ""), "/")} {
		var b strings.Builder
		b.WriteString("^")
		for rest := t; rest != ""; {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				b.WriteString(regexp.QuoteMeta(rest))
				break
			}
			b.WriteString(regexp.QuoteMeta(rest[:i]))
			rest = rest[i:]
			n := 1
			switch {
			case strings.HasPrefix(rest, "{dir}"):
				b.WriteString("(.*?)")
				n = len("{dir}")
			case strings.HasPrefix(rest, "{file}"):
				b.WriteString("([^/]+)")
				n = len("{file}")
			case strings.HasPrefix(rest, "{key}"):
				b.WriteString("(.+?)")
				n = len("{key}")
			case strings.HasPrefix(rest, "{pr}"):
				b.WriteString("([1-9][0-9]*)")
				n = len("{pr}")
			default:
				b.WriteString(regexp.QuoteMeta("{"))
			}
			rest = rest[n:]
		}
		b.WriteString("$")
		if re, err := regexp.Compile(b.String()); err == nil {
			res = append(res, re)
		}
	}
	return func(key string) bool {
		for _, re := range res {
			if re.MatchString(key) {
				return true
			}
		}
		return false
	}
}
