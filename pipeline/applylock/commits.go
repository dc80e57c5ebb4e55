package applylock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Answer is where a commit stands relative to another, and which source
// said so.
type Answer struct {
	Relation Relation
	Via      string // the source that answered: "GitHub compare API", "git merge-base"
}

// Commits is the one commit comparer of a command: it asks its sources in
// turn (GitHub's compare API, then git in the checkout) and remembers
// their answers in one cache for the life of the command, so the waiters'
// checks and the supersede check under the lock ask once per pair of
// commits: how two commits relate never changes, nor does a commit leave
// the default branch once on it.
type Commits struct {
	sources []Comparer
	why     string // no source: why none can answer

	mu  sync.Mutex
	rel map[[2]string]remembered[Answer] // base, head
	on  map[[2]string]remembered[bool]   // branch, sha
}

// remembered is one answer (or failure) and when it was asked.
type remembered[T any] struct {
	v   T
	err error
	at  time.Time
}

// NewCommits asks sources in turn, the first answer winning.
func NewCommits(sources ...Comparer) *Commits {
	return &Commits{sources: sources, rel: map[[2]string]remembered[Answer]{}, on: map[[2]string]remembered[bool]{}}
}

// NoCommits is a comparer with no source to ask: every question fails
// with why.
func NoCommits(why string) *Commits {
	c := NewCommits()
	c.why = why
	return c
}

// polling is how the waiters ask (their own clock's now): besides the
// answers every question takes, they take a "no" once asked and a failure
// for compareRetry, so they do not ask at every poll. The zero polling
// (the check under the lock) asks again after a "no" or a failure.
type polling struct {
	now time.Time
	on  bool
}

func (p polling) reuses(err error, yes bool, at time.Time) bool {
	if err == nil && yes {
		return true
	}
	return p.on && (err == nil || p.now.Sub(at) < compareRetry)
}

// Compare returns where head stands relative to base, and which source
// said so. When no source answers: their errors, each named when there
// are several.
func (c *Commits) Compare(ctx context.Context, base, head string) (Answer, error) {
	a, _, err := c.compare(ctx, base, head, polling{})
	return a, err
}

// compare is Compare under p; asked says that a source was asked (the
// answer is not one remembered).
func (c *Commits) compare(ctx context.Context, base, head string, p polling) (a Answer, asked bool, err error) {
	key := [2]string{base, head}
	c.mu.Lock()
	r, ok := c.rel[key]
	c.mu.Unlock()
	if ok && p.reuses(r.err, true, r.at) {
		return r.v, false, r.err
	}
	a, err = ask(c, func(s Comparer) (Answer, error) {
		rel, err := s.Compare(ctx, base, head)
		return Answer{Relation: rel, Via: s.Name()}, err
	})
	if ctx.Err() == nil && (err == nil || p.on) {
		c.mu.Lock()
		c.rel[key] = remembered[Answer]{v: a, err: err, at: p.now}
		c.mu.Unlock()
	}
	return a, true, err
}

// OnBranch tells whether sha is contained in branch's head (an ancestor
// of it, or the head itself).
func (c *Commits) OnBranch(ctx context.Context, branch, sha string) (bool, error) {
	ok, _, err := c.onBranch(ctx, branch, sha, polling{})
	return ok, err
}

// onBranch is OnBranch under p; asked as for compare.
func (c *Commits) onBranch(ctx context.Context, branch, sha string, p polling) (on, asked bool, err error) {
	key := [2]string{branch, sha}
	c.mu.Lock()
	r, ok := c.on[key]
	c.mu.Unlock()
	if ok && p.reuses(r.err, r.v, r.at) {
		return r.v, false, r.err
	}
	on, err = ask(c, func(s Comparer) (bool, error) { return s.OnBranch(ctx, branch, sha) })
	if ctx.Err() == nil && ((err == nil && on) || p.on) {
		c.mu.Lock()
		c.on[key] = remembered[bool]{v: on, err: err, at: p.now}
		c.mu.Unlock()
	}
	return on, true, err
}

// ask asks each source in turn and returns the first answer. One source's
// error is returned as it is; several are named and joined on one line
// ("; "), so they end up in one log line and one annotation.
func ask[T any](c *Commits, q func(Comparer) (T, error)) (T, error) {
	var zero T
	if len(c.sources) == 0 {
		return zero, errors.New(c.why)
	}
	if len(c.sources) == 1 {
		return q(c.sources[0])
	}
	errs := make([]any, 0, len(c.sources))
	for _, s := range c.sources {
		v, err := q(s)
		if err == nil {
			return v, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
	}
	return zero, fmt.Errorf(strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; "), errs...)
}
