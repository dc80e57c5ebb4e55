package applylock

import (
	"context"
	"sync"
)

// MemoComparer remembers cmp's answers for the life of one command, so
// the waiters' checks and the supersede check under the lock ask GitHub
// (or git) once per pair of commits: how two commits relate never
// changes, nor does a commit leave the default branch once on it. Errors
// and "not on the branch" are not remembered.
func MemoComparer(cmp Comparer) Comparer {
	if _, ok := cmp.(*memoComparer); ok {
		return cmp
	}
	return &memoComparer{cmp: cmp, rel: map[[2]string]memoRelation{}, on: map[[2]string]bool{}}
}

type memoRelation struct {
	via string
	r   Relation
}

type memoComparer struct {
	cmp Comparer
	mu  sync.Mutex
	rel map[[2]string]memoRelation
	on  map[[2]string]bool // branch, sha: on it
}

func (m *memoComparer) Name() string { return m.cmp.Name() }

func (m *memoComparer) Compare(ctx context.Context, base, head string) (Relation, error) {
	_, r, err := m.compare(ctx, base, head)
	return r, err
}

func (m *memoComparer) compare(ctx context.Context, base, head string) (string, Relation, error) {
	key := [2]string{base, head}
	m.mu.Lock()
	c, ok := m.rel[key]
	m.mu.Unlock()
	if ok {
		return c.via, c.r, nil
	}
	via, r, err := compareVia(ctx, m.cmp, base, head)
	if err != nil {
		return via, r, err
	}
	m.mu.Lock()
	m.rel[key] = memoRelation{via: via, r: r}
	m.mu.Unlock()
	return via, r, nil
}

func (m *memoComparer) OnBranch(ctx context.Context, branch, sha string) (bool, error) {
	key := [2]string{branch, sha}
	m.mu.Lock()
	on := m.on[key]
	m.mu.Unlock()
	if on {
		return true, nil
	}
	ok, err := m.cmp.OnBranch(ctx, branch, sha)
	if err == nil && ok {
		m.mu.Lock()
		m.on[key] = true
		m.mu.Unlock()
	}
	return ok, err
}
