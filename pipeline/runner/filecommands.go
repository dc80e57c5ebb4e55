package runner

import (
	"fmt"
	"strings"
)

// ParseFileCommands reads what the GitHub runner reads of GITHUB_OUTPUT,
// GITHUB_ENV and GITHUB_STATE (and GitLab of a dotenv file): name=value
// lines and name<<DELIMITER heredocs. Later values of a name win.
func ParseFileCommands(s string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSuffix(lines[i], "\r")
		if l == "" {
			continue
		}
		if name, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for i++; i < len(lines) && strings.TrimSuffix(lines[i], "\r") != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("unterminated heredoc %q (delimiter %q)", name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("bad file command line %q", l)
		}
		out[name] = val
	}
	return out, nil
}
