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
	if strings.Count(c, "`") != 2 || strings.ContainsAny(c, "\r\n") {
		t.Fatalf("code: %q", c)
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
