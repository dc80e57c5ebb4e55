package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/stacks"
	"github.com/prstate/prstate/pipeline/usage"
)

var stacksCommand = command{
	name:    "stacks",
	summary: "list the root modules with a backend \"s3\" block under working-directory (JSON output stacks, for a matrix); --changed: only those the pull request touches",
	options: func(c *Config) []optionGroup {
		return []optionGroup{use(&c.StacksOptions), use(&c.EventOptions), use(&c.GitHubOptions), use(&c.OutputOptions)}
	},
	run: runStacks,
}

// StacksOptions are where stacks searches and what it keeps.
type StacksOptions struct {
	Root    string // absolute
	Binary  backend.Binary
	Changed bool
	Base    string

	root, binary, base StringValue
	changed            BoolValue
}

func (o *StacksOptions) addFlags(s *settingSet) {
	o.root = s.String(workingDirectorySetting)
	o.binary = s.String(binarySetting)
	o.changed = s.Bool(changedSetting)
	o.base = s.String(baseSetting)
}

func (o *StacksOptions) load(l *loader) error {
	dirs, err := workingDirectories(l.fsys, l.cwd, l.workspace, o.root.Text())
	if err != nil {
		return err
	}
	if len(dirs) > 1 {
		return oneStackError(l.cwd, o.root.Text(), dirs)
	}
	o.Root = dirs[0]
	if o.Binary, err = backend.ParseBinary(o.binary.Text()); err != nil {
		return err
	}
	if o.Changed, _, err = o.changed.Get(); err != nil {
		return err
	}
	o.Base = strings.TrimSpace(o.base.Text())
	if o.Base != "" && (strings.HasPrefix(o.Base, "-") || strings.Contains(o.Base, "..") || strings.ContainsAny(o.Base, " \t\n:^~")) {
		return usage.Errorf("invalid base %q: want a commit SHA or a branch name", o.Base)
	}
	return nil
}

// changedFilesTimeout bounds the compare call or git diff.
const changedFilesTimeout = time.Minute

func runStacks(ctx context.Context, inv *invocation) error {
	g, err := stacks.Find(inv.app.FS, fsPath(inv.cfg.Root), inv.cfg.Binary)
	if err != nil {
		return usage.Errorf("cannot read the modules under %s: %v", displayDir(inv.app.Cwd, inv.cfg.Root), err)
	}
	found := g.Stacks
	if inv.cfg.Changed {
		files, complete, err := inv.changedFiles(ctx)
		if err != nil {
			return err
		}
		if complete {
			paths := make([]string, len(files))
			for i, f := range files {
				paths[i] = fsPath(f)
			}
			found = g.Changed(paths)
		} else {
			inv.rep.Warning("the change touches more files than GitHub's compare API lists (300): every stack is taken as changed")
		}
		inv.logf("%d of %d stack(s) changed (%d file(s) from %s)", len(found), len(g.Stacks), len(files), inv.changedRange())
	}
	dirs := make([]string, len(found))
	for i, d := range found {
		dirs[i] = displayDir(inv.app.Cwd, "/"+d)
	}
	raw, err := json.Marshal(dirs)
	if err != nil {
		return fmt.Errorf("failed to encode the stacks: %w", err)
	}
	inv.rep.SetOutput("stacks", string(raw))
	if inv.cfg.JSON {
		_, err := fmt.Fprintln(inv.stdout(), string(raw))
		return err
	}
	for _, d := range dirs {
		fmt.Fprintln(inv.stdout(), d)
	}
	return nil
}

// changedRange is base...head of the change, as shown in messages.
func (inv *invocation) changedRange() string {
	base, head := inv.changeBase(), inv.ev.SHA
	if head == "" {
		head = "HEAD"
	}
	return base + "..." + head
}

// changeBase is the commit the change is compared with: --base, else the
// event's.
func (inv *invocation) changeBase() string {
	if inv.cfg.Base != "" {
		return inv.cfg.Base
	}
	return inv.ev.BaseSHA
}

// changedFiles returns the absolute paths of the files the change
// touches: from GitHub's compare API on GitHub with a token, else from
// git in the checkout. complete is false when the list was cut.
func (inv *invocation) changedFiles(ctx context.Context) (files []string, complete bool, err error) {
	base, head := inv.changeBase(), inv.ev.SHA
	if base == "" {
		return nil, false, usage.Errorf("stacks --changed needs the commit to compare with: run it on a pull_request, merge_group or push event, or pass --base")
	}
	ctx, cancel := context.WithTimeout(ctx, changedFilesTimeout)
	defer cancel()
	if inv.ev.Repository != "" && inv.cfg.GitHubToken != "" && !strings.HasPrefix(inv.ev.Name, "gitlab:") && head != "" {
		inv.rep.Mask(inv.cfg.GitHubToken)
		c, err := inv.githubClient(changedFilesTimeout)
		if err != nil {
			return nil, false, err
		}
		rel, complete, err := c.ChangedFiles(ctx, inv.ev.Repository, base, head)
		if err != nil {
			return nil, false, err
		}
		// The API names files from the repository's root: the workspace.
		root := inv.app.workspace()
		for _, f := range rel {
			files = append(files, filepath.Join(root, filepath.FromSlash(f)))
		}
		return files, complete, nil
	}
	if head == "" {
		head = "HEAD"
	}
	files, err = stacks.GitChangedFiles(ctx, inv.cfg.Root, base, head)
	if err != nil {
		return nil, false, usage.Errorf("cannot list the files changed from %s to %s: %v", base, head, err)
	}
	return files, true, nil
}
