package iam

import "strings"

// glob is a name with wildcards: literal parts joined by IAM's "*", which
// matches any run of characters, "/" included. A plain name has one part.
type glob []string

// sentinel stands for the PR number while a name function renders a PR
// name; it is never part of a key (ValidateKey refuses control
// characters) or of a bucket name.
const sentinel = "\x00"

// literal is the glob that matches name alone.
func literal(name string) glob { return glob{name} }

// patternOf turns a name rendered with sentinel for the PR number into the
// glob of that name for every PR.
func patternOf(name string) glob { return strings.Split(name, sentinel) }

// then appends a wildcard and the literal s: g + "*" + s.
func (g glob) then(s string) glob { return append(append(glob{}, g...), s) }

// prepend puts the literal s before g.
func (g glob) prepend(s string) glob {
	out := append(glob{}, g...)
	out[0] = s + out[0]
	return out
}

// iamEscape writes characters IAM reads as wildcards or variables as the
// policy variables that stand for them literally.
var iamEscape = strings.NewReplacer("$", "${$}", "*", "${*}", "?", "${?}")

// String is g in IAM syntax.
func (g glob) String() string {
	parts := make([]string, len(g))
	for i, p := range g {
		parts[i] = iamEscape.Replace(p)
	}
	return strings.Join(parts, "*")
}

// token is one byte of a glob, or (star) its wildcard.
type token struct {
	star bool
	c    byte
}

func (g glob) tokens() []token {
	var out []token
	for i, p := range g {
		if i > 0 {
			out = append(out, token{star: true})
		}
		for j := 0; j < len(p); j++ {
			out = append(out, token{c: p[j]})
		}
	}
	return out
}

// intersects tells whether some string matches both globs: a search of
// the product of the two patterns' positions.
func intersects(a, b glob) bool {
	x, y := a.tokens(), b.tokens()
	type pos struct{ i, j int }
	seen := map[pos]bool{}
	stack := []pos{{0, 0}}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		if p.i == len(x) && p.j == len(y) {
			return true
		}
		xs := p.i < len(x) && x[p.i].star
		ys := p.j < len(y) && y[p.j].star
		if xs {
			stack = append(stack, pos{p.i + 1, p.j}) // the star matches nothing more
		}
		if ys {
			stack = append(stack, pos{p.i, p.j + 1})
		}
		if p.i == len(x) || p.j == len(y) {
			continue
		}
		switch {
		case !xs && !ys && x[p.i].c == y[p.j].c:
			stack = append(stack, pos{p.i + 1, p.j + 1})
		case xs && !ys:
			stack = append(stack, pos{p.i, p.j + 1}) // x's star eats y's byte
		case !xs && ys:
			stack = append(stack, pos{p.i + 1, p.j})
		}
	}
	return false
}
