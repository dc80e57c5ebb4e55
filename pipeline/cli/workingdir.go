package cli

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/prstate/prstate/pipeline/usage"
)

// workingDirectories splits a comma/newline separated list, expands globs
// and confines every directory to the workspace (GITHUB_WORKSPACE, else
// the current directory): a path, a glob match or a symlink that leads
// outside it is refused. Paths are absolute, of fsys rooted at "/".
func workingDirectories(fsys fs.FS, cwd, workspace, spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		spec = "."
	}
	root, err := resolveLinks(fsys, workspace)
	if err != nil {
		return nil, usage.Errorf("cannot read the workspace %s: %v", workspace, err)
	}
	var dirs []string
	for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		abs := f
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(cwd, abs)
		}
		if !strings.ContainsAny(abs, "*?[") {
			if err := confine(fsys, root, f, abs); err != nil {
				return nil, err
			}
			dirs = append(dirs, filepath.Clean(abs))
			continue
		}
		matches, err := fs.Glob(fsys, fsPath(abs))
		if err != nil {
			return nil, usage.Errorf("invalid working-directory glob %q: %v", f, err)
		}
		if len(matches) == 0 {
			return nil, usage.Errorf("working-directory glob %q matches nothing", f)
		}
		var found int
		for _, m := range matches {
			if err := confine(fsys, root, f, "/"+m); err != nil {
				return nil, err
			}
			if info, err := fs.Stat(fsys, m); err == nil && info.IsDir() {
				dirs = append(dirs, "/"+m)
				found++
			}
		}
		if found == 0 {
			return nil, usage.Errorf("working-directory glob %q matches no directory, only files", f)
		}
	}
	if len(dirs) == 0 {
		return nil, usage.Errorf("working-directory %q names no directory", spec)
	}
	return dirs, nil
}

// confine resolves abs (spec as the user wrote it) and refuses it unless
// it stays inside root.
func confine(fsys fs.FS, root, spec, abs string) error {
	real, err := resolveLinks(fsys, abs)
	if err != nil {
		// A missing directory is reported by whoever reads it.
		real = filepath.Clean(abs)
	}
	if !within(root, real) {
		return usage.Errorf("working-directory %q resolves to %s, outside the workspace %s", spec, real, root)
	}
	return nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// maxLinks bounds symlink resolution, as the kernel does (ELOOP).
const maxLinks = 40

// resolveLinks resolves the symlinks of an absolute path in fsys (rooted
// at "/"), component by component. An fsys that cannot read links (or a
// path that does not exist) is taken as it is written.
func resolveLinks(fsys fs.FS, p string) (string, error) {
	rl, ok := fsys.(fs.ReadLinkFS)
	p = filepath.ToSlash(filepath.Clean(p))
	if !ok {
		return p, nil
	}
	done := "/"
	rest := strings.Split(strings.TrimPrefix(p, "/"), "/")
	hops := 0
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		if part == "" || part == "." {
			continue
		}
		next := path.Join(done, part)
		if part == ".." {
			done = next
			continue
		}
		info, err := rl.Lstat(fsPath(next))
		if errors.Is(err, fs.ErrNotExist) {
			return path.Join(append([]string{next}, rest...)...), nil
		}
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if hops++; hops > maxLinks {
			return "", errors.New("too many symbolic links")
		}
		target, err := rl.ReadLink(fsPath(next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			done = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return done, nil
}

// fsPath turns an absolute path into a path of an fs.FS rooted at "/".
func fsPath(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return path.Clean(p)
}
