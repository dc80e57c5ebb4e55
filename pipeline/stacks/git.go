package stacks

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// GitChangedFiles returns the absolute paths of the files a change from
// base to head touches in the git checkout at dir (git diff base...head:
// from their merge base, as a pull request shows it; renames under both
// names). The checkout needs both commits and their history (actions/checkout
// with fetch-depth: 0).
func GitChangedFiles(ctx context.Context, dir, base, head string) ([]string, error) {
	top, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	top = strings.TrimSpace(top)
	out, err := git(ctx, dir, "diff", "--name-only", "--no-renames", "-z", base+"..."+head, "--")
	if err != nil {
		return nil, fmt.Errorf("%w (the checkout needs both commits and their history: actions/checkout with fetch-depth: 0)", err)
	}
	var files []string
	for _, f := range strings.Split(out, "\x00") {
		if f != "" {
			files = append(files, filepath.Join(top, filepath.FromSlash(f)))
		}
	}
	return files, nil
}

// git runs git in dir. safe.directory=* because the action's container
// runs as root over a workspace checked out by the runner's user.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "safe.directory=*", "-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
