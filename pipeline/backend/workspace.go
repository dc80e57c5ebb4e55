package backend

import (
	"errors"
	"io/fs"
	"net/url"
	"strings"
)

// DefaultWorkspace is the workspace terraform and tofu start in.
const DefaultWorkspace = "default"

// DefaultWorkspaceKeyPrefix is the s3 backend's workspace_key_prefix default.
const DefaultWorkspaceKeyPrefix = "env:"

// selectWorkspace finds the workspace terraform and tofu select: the
// TF_WORKSPACE environment variable, else the name an earlier `workspace
// select` left in <data dir>/environment, else default. A workspace isPR
// recognises (one prstate exported for a PR job) is not production's: it
// is passed over, and the next source decides.
func selectWorkspace(fsys fs.FS, dir, display string, env func(string) string, isPR func(string) bool) (string, Source, []string, error) {
	var notes []string
	if env != nil {
		if ws := env("TF_WORKSPACE"); ws != "" {
			if !validWorkspaceName(ws) {
				return "", Source{}, nil, configErrorf("invalid TF_WORKSPACE %q: a workspace name must be usable as a URL path segment", ws)
			}
			if isPR == nil || !isPR(ws) {
				return ws, Source{Kind: FromEnv, Item: "TF_WORKSPACE"}, nil, nil
			}
			notes = append(notes, "TF_WORKSPACE="+ws+" is a pull request's workspace, not production's: ignored")
		}
	}
	p, shown := joinDir(dir, display, DataDir(env), "environment")
	raw, err := fs.ReadFile(fsys, p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", Source{}, nil, configErrorf("cannot read %s: %v", shown, unwrapPathError(err))
	default:
		ws := strings.TrimSpace(string(raw))
		switch {
		case ws == "":
		case !validWorkspaceName(ws):
			return "", Source{}, nil, configErrorf("invalid workspace %q in %s: a workspace name must be usable as a URL path segment", ws, shown)
		case isPR != nil && isPR(ws):
			notes = append(notes, shown+" selects "+ws+", a pull request's workspace, not production's: ignored")
		default:
			return ws, Source{Kind: FromEnvironmentFile, File: shown}, notes, nil
		}
	}
	return DefaultWorkspace, Source{Kind: FromDefault}, notes, nil
}

// validWorkspaceName is terraform's rule for TF_WORKSPACE.
func validWorkspaceName(name string) bool { return name == url.PathEscape(name) }

// WorkspaceObjectKey is the object the s3 backend keeps workspace's state
// in for the key setting key: key itself in the default workspace,
// <prefix>/<workspace>/<key> in any other (prefix "" is env:).
func WorkspaceObjectKey(prefix, workspace, key string) string {
	if workspace == "" || workspace == DefaultWorkspace {
		return key
	}
	if prefix == "" {
		prefix = DefaultWorkspaceKeyPrefix
	}
	return prefix + "/" + workspace + "/" + key
}
