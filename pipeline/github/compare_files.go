package github

import (
	"context"
	"fmt"
)

// compareFileLimit is the most files the compare API lists; a longer
// list is cut there.
const compareFileLimit = 300

// ChangedFiles returns the paths (from the repository's root) of the
// files that differ between base and head's merge base and head in repo
// (owner/name): what a pull request from base to head changes, renamed
// files under both names. complete is false when GitHub cut the list
// (it lists at most 300 files): the caller must not take a file's absence
// as unchanged.
func (c *Client) ChangedFiles(ctx context.Context, repo, base, head string) (files []string, complete bool, err error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, false, err
	}
	cmp, _, err := c.gh.Repositories.CompareCommits(ctx, owner, name, base, head, nil)
	if err != nil {
		return nil, false, fmt.Errorf("failed to compare %s...%s in %s: %w", base, head, repo, err)
	}
	for _, f := range cmp.Files {
		files = append(files, f.GetFilename())
		if p := f.GetPreviousFilename(); p != "" {
			files = append(files, p)
		}
	}
	return files, len(cmp.Files) < compareFileLimit, nil
}
