// Package escape is the one place where strings that came from outside
// prstate (S3 objects, DynamoDB items, GitHub payloads and API answers) are
// made safe for where they are shown: plain log lines, workflow-command
// annotations, outputs, and markdown (summaries, comments, tables). It
// imports nothing of prstate, so every package can use it; report builds
// its markdown with it. See ARCHITECTURE.md, invariant 7.
package escape

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// dangerous tells whether r must not reach a log line as itself: control
// characters (C0, DEL, C1), line and paragraph separators, and every
// Unicode format character (category Cf): the bidi controls that reorder
// what a reader sees (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069),
// zero-width ones that hide text or split words (U+200B–U+200D, U+2060,
// U+FEFF), soft hyphens, tag characters and the rest of Cf.
func dangerous(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return r >= 0xad && unicode.Is(unicode.Cf, r)
}

// mentionBreak is what MarkdownText puts after '@' so that no one is
// notified (U+2060 WORD JOINER). Log keeps it there, and only there, so
// markdown escaped once stays as it was.
const mentionBreak = '\u2060'

// IsDangerous tells whether r is a control, format (Cf) or bidi character
// that Log escapes (statekey rejects them in keys).
func IsDangerous(r rune) bool { return dangerous(r) }

// Log makes s one safe piece of a plain log line: control, format and bidi
// characters become Go escapes (\n, \r, \x1b, \u202e, \u200b), invalid
// UTF-8 bytes \xNN. The result has no line break, so no line of it can
// start a workflow command. Backslashes are kept: Log(Log(s)) == Log(s).
func Log(s string) string {
	if !needsLog(s) {
		return s
	}
	var b strings.Builder
	prev := rune(0)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && dangerous(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == mentionBreak && prev == '@':
			b.WriteString(s[i : i+n])
		case dangerous(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		prev = r
		i += n
	}
	return b.String()
}

func needsLog(s string) bool {
	prev := rune(0)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (dangerous(r) && (r != mentionBreak || prev != '@')) {
			return true
		}
		prev = r
		i += n
	}
	return false
}

// Annotation makes s safe as the message of a workflow command (::warning::
// and friends): everything Log escapes, except line breaks, which the
// command's data encoding carries (go-githubactions encodes %, \r and \n as
// %25, %0D and %0A, as GitHub's toolkit does: see Data).
func Annotation(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = Log(l)
	}
	return strings.Join(lines, "\n")
}

// Data encodes s as workflow-command data, as GitHub's toolkit does
// (%25, %0D, %0A). go-githubactions does this to every message; Data is
// for tests and for anything that writes a command itself.
func Data(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// Output makes s safe as one value in GITHUB_OUTPUT, GITHUB_STATE or
// GITHUB_ENV: go-githubactions writes `name<<DELIM\nvalue\nDELIM` with a
// fixed delimiter, so a value with a line break could end the value and
// write another one. Line breaks and other control characters are escaped
// as Log does.
func Output(s string) string { return Log(s) }

var hexSHA = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// IsSHA tells whether s is a full commit SHA: 40 (SHA-1) or 64 (SHA-256)
// lowercase hex digits.
func IsSHA(s string) bool { return hexSHA.MatchString(s) }

// Invalid is how a value that failed validation is shown.
const Invalid = "(invalid)"

// SHA returns s when it is a full commit SHA, "" when empty, Invalid
// otherwise: a record's SHA is shown only when it is one.
func SHA(s string) string {
	if s == "" || IsSHA(s) {
		return s
	}
	return Invalid
}

// markdownSpecial are the characters that format GitHub-flavoured markdown
// or open HTML; each is escaped with a backslash (GFM allows that for any
// ASCII punctuation).
const markdownSpecial = "\\`*_[]<>#!|~&:."

// MarkdownText makes s plain text in markdown: line breaks and control
// characters escaped as Log does, markdown punctuation backslash-escaped
// (no links, images, HTML, code, emphasis or table cells; ':' and '.' too,
// so neither https:// nor www. text is autolinked), and @mentions (and
// e-mail autolinks) broken with U+2060 WORD JOINER so they notify no one.
func MarkdownText(s string) string {
	s = Log(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '@':
			b.WriteRune('@')
			b.WriteRune(mentionBreak)
		case r < 0x80 && strings.ContainsRune(markdownSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MarkdownLine keeps rendered markdown (prstate's own, with strings from
// outside already escaped by MarkdownText or MarkdownCode) on one line:
// line breaks become spaces, other control characters are escaped as Log
// does.
func MarkdownLine(md string) string {
	return Log(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(md))
}

// MarkdownCell keeps rendered markdown inside its table cell: one line,
// and every | escaped (GFM splits cells on | even inside code spans; \|
// shows as |, and an already escaped \| stays one).
func MarkdownCell(md string) string { return strings.ReplaceAll(MarkdownLine(md), "|", `\|`) }

// MarkdownCode renders s as inline code ("-" when empty), exactly as it
// is (a key with a backtick shows that backtick): nothing inside a code
// span is formatting (no link, no HTML, no autolink). The span's fence is
// one backtick longer than the longest run of backticks in s, padded
// with a space each side where CommonMark would otherwise read s's edge
// as part of the fence or strip its edge spaces; line breaks and control
// characters are escaped as Log does. In a table, MarkdownCell escapes
// the pipes.
func MarkdownCode(s string) string {
	if s == "" {
		return "-"
	}
	s = Log(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "" {
		s = " " + s + " "
	}
	return fence + s + fence
}

// Shell makes s one word of a command a user copies into a shell: single
// quoted, each quote inside as close-quote, backslash-quote, open-quote
// (POSIX), after Log (so the command stays one line and shows control and
// format characters as escapes). Nothing inside single quotes is
// expanded: no ;, |, $(), backticks or globs run.
func Shell(s string) string {
	return "'" + strings.ReplaceAll(Log(s), "'", `'\''`) + "'"
}
