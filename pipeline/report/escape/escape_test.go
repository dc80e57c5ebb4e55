package escape

import (
	"strings"
	"testing"
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
