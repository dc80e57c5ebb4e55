package iam_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prstate/prstate/pipeline/iam"
)

// request is one API call as IAM judges it: the action, the resource ARN
// and the condition keys the call carries.
type request struct {
	action      string
	resource    string
	prefix      *string  // s3:prefix of a listing
	leadingKeys []string // dynamodb:LeadingKeys: the LockIDs the call touches
}

// allowed is a tiny IAM evaluator, written apart from the generator: a
// request is allowed when an Allow statement matches it and no Deny does.
// Conditions it does not know count as met, so a deny it finds holds.
func allowed(p iam.Policy, r request) bool {
	allow := false
	for _, s := range p.Statement {
		if !anyMatch(s.Action, r.action) || !anyMatch(s.Resource, r.resource) || !conditionsMet(s.Condition, r) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allow = true
	}
	return allow
}

func conditionsMet(c iam.Condition, r request) bool {
	for op, kv := range c {
		for key, vals := range kv {
			switch {
			case op == "StringLike" && key == "s3:prefix":
				if r.prefix == nil || !anyMatch(vals, *r.prefix) {
					return false
				}
			case op == "ForAllValues:StringLike" && key == "dynamodb:LeadingKeys":
				for _, k := range r.leadingKeys { // an empty set meets ForAllValues
					if !anyMatch(vals, k) {
						return false
					}
				}
			}
		}
	}
	return true
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if iamPattern(p).MatchString(s) {
			return true
		}
	}
	return false
}

// iamPattern compiles an IAM string pattern: "*" any run, "?" one
// character, ${*} ${?} ${$} those characters literally.
func iamPattern(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := compileIAMPattern(p)
	patterns.Store(p, re)
	return re
}

var patterns sync.Map

func compileIAMPattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`\A`)
	for len(p) > 0 {
		switch {
		case strings.HasPrefix(p, "${*}"), strings.HasPrefix(p, "${?}"), strings.HasPrefix(p, "${$}"):
			b.WriteString(regexp.QuoteMeta(p[2:3]))
			p = p[4:]
			continue
		case p[0] == '*':
			b.WriteString(`(?s:.*)`)
		case p[0] == '?':
			b.WriteString(`(?s:.)`)
		default:
			b.WriteString(regexp.QuoteMeta(p[:1]))
		}
		p = p[1:]
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// TestIamEvaluator: the evaluator itself finds the writes a too-wide
// pattern lets through, and honours escapes and LeadingKeys.
func TestIamEvaluator(t *testing.T) {
	wide := iam.Policy{Statement: []iam.Statement{
		{Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{"arn:aws:s3:::b/app/terraform.tfstate*"}},
		{Effect: "Allow", Action: []string{"dynamodb:*"}, Resource: []string{"arn:t"}, Condition: iam.Condition{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {"b/app/pr-*/x"}}}},
		{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/we${*}rd"}},
	}}
	for _, c := range []struct {
		r    request
		want bool
	}{
		{request{action: "s3:PutObject", resource: "arn:aws:s3:::b/app/terraform.tfstate.tflock"}, true},
		{request{action: "s3:PutObject", resource: "arn:aws:s3:::b/app/other"}, false},
		{request{action: "s3:DeleteObject", resource: "arn:aws:s3:::b/app/terraform.tfstate"}, false},
		{request{action: "dynamodb:PutItem", resource: "arn:t", leadingKeys: []string{"b/app/pr-1/x"}}, true},
		{request{action: "dynamodb:BatchWriteItem", resource: "arn:t", leadingKeys: []string{"b/app/pr-1/x", "b/app/x"}}, false},
		{request{action: "dynamodb:Scan", resource: "arn:t"}, true}, // why PR policies must not grant Scan
		{request{action: "s3:GetObject", resource: "arn:aws:s3:::b/we*rd"}, true},
		{request{action: "s3:GetObject", resource: "arn:aws:s3:::b/weird"}, false},
	} {
		if got := allowed(wide, c.r); got != c.want {
			t.Errorf("%+v: allowed %v, want %v", c.r, got, c.want)
		}
	}
}
