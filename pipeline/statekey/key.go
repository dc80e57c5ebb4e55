// Package statekey maps a production state key to a pull request's key
// and back, and names everything stored beside a state (names.go). See
// ARCHITECTURE.md.
package statekey

import (
	"path"
	"strconv"
	"strings"

	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/usage"
)

// DefaultKeyTemplate puts a PR's state in a pr-N folder beside production's.
const DefaultKeyTemplate = "{dir}/pr-{pr}/{file}"

// DefaultWorkspaceKeyPrefix is Terraform's own workspace_key_prefix default.
const DefaultWorkspaceKeyPrefix = "env:"

// Keys maps a production state key to its PR keys and back. It is pure: no I/O.
type Keys struct {
	Production string
	prefix     string // rendered template before {pr}
	suffix     string // rendered template after {pr}
	workspace  bool
}

// NewKeys builds the key scheme of --isolation key: template placeholders
// {dir} {file} {key} {pr}; {pr} must appear exactly once and every PR key
// must stay inside the production key's directory.
func NewKeys(production, template string) (Keys, error) {
	if err := ValidateKey(production); err != nil {
		return Keys{}, err
	}
	if template == "" {
		template = DefaultKeyTemplate
	}
	if err := checkCharacters("key template", template); err != nil {
		return Keys{}, err
	}
	if n := strings.Count(template, prPlaceholder); n != 1 {
		return Keys{}, usage.Errorf("key template %q must contain %s exactly once", template, prPlaceholder)
	}
	dir, file := path.Split(production)
	dir = strings.TrimSuffix(dir, "/")
	r := renderer(dir, file, production)
	before, after, _ := strings.Cut(template, prPlaceholder)
	k := Keys{Production: production, prefix: r.Replace(before), suffix: r.Replace(after)}
	// "{dir}/x" with an empty dir renders "/x": Terraform keys never start with "/".
	if dir == "" {
		k.prefix = strings.TrimPrefix(k.prefix, "/")
		if k.prefix == "" {
			k.suffix = strings.TrimPrefix(k.suffix, "/")
		}
	}
	if strings.ContainsAny(k.prefix+k.suffix, "{}") {
		return Keys{}, usage.Errorf("key template %q has an unknown placeholder (use %s)", template, Placeholders())
	}
	sample := k.render(1)
	if err := ValidateKey(sample); err != nil {
		return Keys{}, usage.Errorf("key template %q gives an invalid key %q: %v", template, sample, err)
	}
	if dir != "" && !strings.HasPrefix(sample, dir+"/") {
		return Keys{}, usage.Errorf("key template %q gives %q, outside the production key's directory %q", template, sample, dir+"/")
	}
	if err := k.checkSiblings(); err != nil {
		return Keys{}, err
	}
	if err := k.checkSeparable(template); err != nil {
		return Keys{}, err
	}
	if err := k.checkLength(); err != nil {
		return Keys{}, err
	}
	return k, nil
}

// checkSiblings rejects templates under which a PR key and the production
// key are each other's siblings (app/pr-4 when production is
// app/pr-4.tflock): cleanup of that PR would reach production's things.
func (k Keys) checkSiblings() error {
	if pr, m := k.matchPattern(k.Production); m {
		return usage.Errorf("key template gives pull request %d the production key %q", pr, k.Production)
	}
	for _, s := range siblingSuffixes {
		if base, ok := strings.CutSuffix(k.Production, s); ok {
			if pr, m := k.matchPattern(base); m {
				return usage.Errorf("key template gives pull request %d the key %q, whose %s is the production state %q", pr, base, s, k.Production)
			}
		}
		if pr, m := k.Match(k.Production + s); m {
			return usage.Errorf("key template gives pull request %d the key %q, which is where production's %s lives", pr, k.Production+s, s)
		}
		if strings.HasPrefix(k.suffix, s) || strings.Contains(k.suffix, s+"/") {
			return usage.Errorf("key template must not put %s after {pr}", s)
		}
	}
	return nil
}

// NewWorkspaceKeys builds the scheme of --isolation workspace, Terraform's own
// layout: <workspace_key_prefix>/pr-N/<key>.
func NewWorkspaceKeys(production, workspaceKeyPrefix string) (Keys, error) {
	if err := ValidateKey(production); err != nil {
		return Keys{}, err
	}
	if workspaceKeyPrefix == "" {
		workspaceKeyPrefix = DefaultWorkspaceKeyPrefix
	}
	if err := ValidateKey(workspaceKeyPrefix); err != nil {
		return Keys{}, usage.Errorf("invalid workspace_key_prefix: %v", err)
	}
	k := Keys{Production: production, prefix: workspaceKeyPrefix + "/pr-", suffix: "/" + production, workspace: true}
	if err := k.checkSeparable("workspace_key_prefix " + workspaceKeyPrefix); err != nil {
		return Keys{}, err
	}
	if err := k.checkLength(); err != nil {
		return Keys{}, err
	}
	return k, nil
}

func (k Keys) render(pr int) string { return k.prefix + strconv.Itoa(pr) + k.suffix }

// Render gives the state key of pull request pr.
func (k Keys) Render(pr int) (string, error) {
	if err := ci.ValidatePR(pr); err != nil {
		return "", err
	}
	return k.render(pr), nil
}

// Workspace is the Terraform workspace of pr under --isolation workspace, "" otherwise.
func (k Keys) Workspace(pr int) string {
	if !k.workspace || pr <= 0 {
		return ""
	}
	return "pr-" + strconv.Itoa(pr)
}

// IsWorkspace tells whether PR keys are Terraform workspaces.
func (k Keys) IsWorkspace() bool { return k.workspace }

// ListPrefix is the longest prefix shared by every PR key: what a sweep lists.
func (k Keys) ListPrefix() string { return k.prefix }

// PRKeyPattern gives every PR key as prefix + N + suffix, N the PR number:
// what IAM object patterns of the PR keys are built from (prstate iam).
func (k Keys) PRKeyPattern() (prefix, suffix string) { return k.prefix, k.suffix }

// Match inverts Render: it reports which PR owns key. Only canonical numbers
// match (no sign, no leading zero), and the production key never does.
func (k Keys) Match(key string) (int, bool) {
	if key == k.Production {
		return 0, false
	}
	return k.matchPattern(key)
}

// matchPattern is Match without the production exclusion.
func (k Keys) matchPattern(key string) (int, bool) {
	if !strings.HasPrefix(key, k.prefix) || !strings.HasSuffix(key, k.suffix) {
		return 0, false
	}
	if len(key) <= len(k.prefix)+len(k.suffix) {
		return 0, false
	}
	num := key[len(k.prefix) : len(key)-len(k.suffix)]
	if num[0] == '0' || len(num) > 10 {
		return 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	pr, err := strconv.Atoi(num)
	if err != nil || pr > ci.MaxPR {
		return 0, false
	}
	return pr, true
}

// ValidateKey applies Terraform's rules for S3 state keys, plus no "." or ".." segments.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return usage.Errorf("state key is empty")
	case len(key) > 1024:
		return usage.Errorf("state key is longer than 1024 bytes")
	case strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/"):
		return usage.Errorf("invalid state key %q: must not start or end with /", key)
	case strings.Contains(key, "//"):
		return usage.Errorf("invalid state key %q: must not contain //", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return usage.Errorf("invalid state key %q: must not contain %q segments", key, seg)
		}
	}
	return checkCharacters("state key", key)
}
