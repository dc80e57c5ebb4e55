package statekey

import (
	"regexp"
	"strings"
)

// placeholder is one placeholder of the key template grammar: what it
// renders from the production key, and the pattern that stands for it
// when a key is matched against a template whose production key is not
// known.
type placeholder struct {
	name    string
	pattern string
	value   func(dir, file, key string) string // nil for {pr}: rendered per pull request
}

// placeholders is the key template grammar, the one list of it.
var placeholders = []placeholder{
	{name: "{dir}", pattern: "(.*?)", value: func(dir, _, _ string) string { return dir }},
	{name: "{file}", pattern: "([^/]+)", value: func(_, file, _ string) string { return file }},
	{name: "{key}", pattern: "(.+?)", value: func(_, _, key string) string { return key }},
	{name: prPlaceholder, pattern: "([1-9][0-9]*)"},
}

const prPlaceholder = "{pr}"

// Placeholders lists the key template's placeholders, for usage lines and
// errors: "{dir} {file} {key} {pr}".
func Placeholders() string {
	names := make([]string, len(placeholders))
	for i, p := range placeholders {
		names[i] = p.name
	}
	return strings.Join(names, " ")
}

// renderer replaces every placeholder but {pr} with its value for the
// production key in dir/file.
func renderer(dir, file, key string) *strings.Replacer {
	var pairs []string
	for _, p := range placeholders {
		if p.value != nil {
			pairs = append(pairs, p.name, p.value(dir, file, key))
		}
	}
	return strings.NewReplacer(pairs...)
}

// TemplateMatcher reports whether a key looks like one the template renders
// for a pull request, whatever the production key (and also with {dir}/
// left out, as for a production key at the bucket's top): a key an earlier
// init recorded that looks like a PR key is not taken for production's.
func TemplateMatcher(template string) func(key string) bool {
	if template == "" {
		template = DefaultKeyTemplate
	}
	var res []*regexp.Regexp
	for _, t := range []string{template, strings.TrimPrefix(strings.ReplaceAll(template, "{dir}/", ""), "/")} {
		if re, err := regexp.Compile("^" + templatePattern(t) + "$"); err == nil {
			res = append(res, re)
		}
	}
	return func(key string) bool {
		for _, re := range res {
			if re.MatchString(key) {
				return true
			}
		}
		return false
	}
}

// templatePattern turns a template into a regular expression: literal
// text quoted, each placeholder its pattern.
func templatePattern(t string) string {
	var b strings.Builder
	for rest := t; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		rest = rest[i:]
		n := 1
		pattern := regexp.QuoteMeta("{")
		for _, p := range placeholders {
			if strings.HasPrefix(rest, p.name) {
				pattern, n = p.pattern, len(p.name)
				break
			}
		}
		b.WriteString(pattern)
		rest = rest[n:]
	}
	return b.String()
}
