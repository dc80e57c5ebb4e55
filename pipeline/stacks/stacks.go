// Package stacks finds the root modules of a repository that keep their
// state in S3 (a backend "s3" block), and which of them a change touches:
// a file in the stack, or in a local module it calls, transitively. See
// ARCHITECTURE.md.
package stacks

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/prstate/prstate/pipeline/backend"
)

// Graph is what Find read under a root: the stacks and the local module
// calls between directories.
type Graph struct {
	Root   string   // path in fsys
	Stacks []string // directories with a backend "s3" block, paths in fsys, sorted
	calls  map[string][]string
}

// skipDir says whether Find skips a directory: hidden ones (.git,
// .terraform: init's copies of modules are not the repository's), and
// node_modules.
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "node_modules"
}

// Find walks fsys under root (a path in fsys) and reads every directory
// that has configuration files, under bin's file rules.
func Find(fsys fs.FS, root string, bin backend.Binary) (*Graph, error) {
	g := &Graph{Root: path.Clean(root), calls: map[string][]string{}}
	err := fs.WalkDir(fsys, g.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != g.Root && skipDir(d.Name()) {
			return fs.SkipDir
		}
		entries, err := fs.ReadDir(fsys, p)
		if err != nil {
			return err
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && isConfigName(e.Name()) {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			return nil
		}
		m, err := backend.ReadModule(fsys, p, names, bin)
		if err != nil {
			return err
		}
		if m.S3 {
			g.Stacks = append(g.Stacks, p)
		}
		if len(m.Calls) > 0 {
			g.calls[p] = m.Calls
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(g.Stacks)
	return g, nil
}

// isConfigName is a cheap first filter on names; ReadModule applies the
// binaries' exact rules.
func isConfigName(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json") || strings.HasSuffix(name, ".tofu") || strings.HasSuffix(name, ".tofu.json")
}

// Calls returns the local module directories dir calls directly.
func (g *Graph) Calls(dir string) []string { return g.calls[dir] }

// Changed returns the stacks that files (paths in fsys) touch, sorted: a
// stack is touched when a file is in its directory (or below it), or in
// the directory of a local module it calls, directly or through other
// local modules.
func (g *Graph) Changed(files []string) []string {
	// Every directory that holds a changed file, at any depth.
	under := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(path.Clean(f)); ; d = path.Dir(d) {
			if under[d] {
				break
			}
			under[d] = true
			if d == "." || d == "/" {
				break
			}
		}
	}
	// Walk the calls backwards from every touched directory.
	callers := map[string][]string{}
	for from, tos := range g.calls {
		for _, to := range tos {
			callers[to] = append(callers[to], from)
		}
	}
	touched := map[string]bool{}
	var queue []string
	mark := func(d string) {
		if !touched[d] {
			touched[d] = true
			queue = append(queue, d)
		}
	}
	for _, s := range g.Stacks {
		if under[s] {
			mark(s)
		}
	}
	for d := range callers {
		if under[d] {
			mark(d)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		for _, c := range callers[d] {
			mark(c)
		}
	}
	var out []string
	for _, s := range g.Stacks {
		if touched[s] {
			out = append(out, s)
		}
	}
	return out
}
