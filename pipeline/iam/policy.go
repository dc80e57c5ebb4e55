package iam

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid       string     `json:"Sid,omitempty"`
	Effect    string     `json:"Effect"`
	Principal *Principal `json:"Principal,omitempty"`
	Action    []string   `json:"Action"`
	Resource  []string   `json:"Resource,omitempty"`
	Condition Condition  `json:"Condition,omitempty"`
}

// Principal is who a trust policy admits.
type Principal struct {
	Federated string `json:"Federated"`
}

// Condition is operator -> context key -> values.
type Condition map[string]map[string][]string

// policyVersion is the version that knows policy variables (${*}).
const policyVersion = "2012-10-17"

// compactLen is the policy's length without whitespace, as IAM counts it.
func (p Policy) compactLen() int {
	raw, _ := json.Marshal(p)
	var b bytes.Buffer
	_ = json.Compact(&b, raw)
	return b.Len()
}

// builder gathers statements; statements that differ only in their
// resources (or only in one condition's values) are merged.
type builder struct {
	stmts []Statement
	reads []glob // every name a statement lets the role read, "s3://<bucket>/..." or "dynamodb://<table>/..."
}

// readActions are the actions that read an object's or item's content.
var readActions = []string{s3Get, s3GetVersion, ddbGet, ddbScan}

func (b *builder) policy() Policy {
	return Policy{Version: policyVersion, Statement: append([]Statement{}, b.stmts...)}
}

// add appends s, or merges it into the statement of the same Sid.
func (b *builder) add(s Statement) {
	s.Effect = "Allow"
	s.Resource = uniq(s.Resource)
	for i := range b.stmts {
		old := &b.stmts[i]
		if old.Sid != s.Sid || !slices.Equal(old.Action, s.Action) {
			continue
		}
		switch {
		case old.Condition == nil && s.Condition == nil:
			old.Resource = uniq(append(old.Resource, s.Resource...))
			return
		case slices.Equal(old.Resource, s.Resource) && mergeable(old.Condition, s.Condition):
			for op, kv := range s.Condition {
				for k, v := range kv {
					old.Condition[op][k] = uniq(append(old.Condition[op][k], v...))
				}
			}
			return
		}
	}
	// A statement of its own: its Sid must stay unique.
	base, sid := s.Sid, s.Sid
	for n := 2; b.hasSid(sid); n++ {
		sid = base + strconv.Itoa(n)
	}
	s.Sid = sid
	b.stmts = append(b.stmts, s)
}

func (b *builder) hasSid(sid string) bool {
	for _, s := range b.stmts {
		if s.Sid == sid {
			return true
		}
	}
	return false
}

// mergeable: both conditions have the same operators and keys.
func mergeable(a, b Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for op, kv := range a {
		if len(b[op]) != len(kv) {
			return false
		}
		for k := range kv {
			if _, ok := b[op][k]; !ok {
				return false
			}
		}
	}
	return true
}

func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// objectARN is the ARN of the objects g names in bucket.
func objectARN(bucket string, g glob) string {
	return "arn:aws:s3:::" + bucket + "/" + g.String()
}

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

// objects allows actions on the objects of bucket the globs name.
func (b *builder) objects(sid string, actions []string, bucket string, gs ...glob) {
	res := make([]string, len(gs))
	for i, g := range gs {
		res[i] = objectARN(bucket, g)
		if readsAny(actions) {
			b.reads = append(b.reads, g.prepend("s3://"+bucket+"/"))
		}
	}
	b.add(Statement{Sid: sid, Action: actions, Resource: res})
}

// list allows a listing action on bucket for the s3:prefix values the
// globs give; none: any prefix.
func (b *builder) list(sid, action, bucket string, prefixes ...glob) {
	s := Statement{Sid: sid, Action: []string{action}, Resource: []string{bucketARN(bucket)}}
	if len(prefixes) > 0 {
		vals := make([]string, len(prefixes))
		for i, p := range prefixes {
			vals[i] = p.String()
		}
		s.Condition = Condition{"StringLike": {"s3:prefix": uniq(vals)}}
	}
	b.add(s)
}

// items allows actions on the items of table whose LockID the globs name
// (dynamodb:LeadingKeys: every key the request touches must match).
func (b *builder) items(sid string, actions []string, table string, keys ...glob) {
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = k.String()
		if readsAny(actions) {
			_, name, _ := strings.Cut(table, ":table/")
			b.reads = append(b.reads, k.prepend("dynamodb://"+name+"/"))
		}
	}
	b.add(Statement{Sid: sid, Action: actions, Resource: []string{table},
		Condition: Condition{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": uniq(vals)}}})
}

func readsAny(actions []string) bool {
	for _, a := range actions {
		if slices.Contains(readActions, a) {
			return true
		}
	}
	return false
}

// table allows actions on the whole table (Scan has no leading key).
func (b *builder) table(sid string, actions []string, table string) {
	if readsAny(actions) {
		_, name, _ := strings.Cut(table, ":table/")
		b.reads = append(b.reads, glob{"dynamodb://" + name + "/", ""})
	}
	b.add(Statement{Sid: sid, Action: actions, Resource: []string{table}})
}
