package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	// usesRe finds a step's action: `uses: X` or `- uses: X`, with any comment.
	usesRe = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	// pinnedAction is owner/repo[/path]@<40 hex>, the tag in a comment.
	pinnedAction = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$`)
	tagComment   = regexp.MustCompile(`^\s+#\s+v\d+(\.\d+){0,2}\b`)
	pinnedDocker = regexp.MustCompile(`^docker://[^@\s]+@sha256:[0-9a-f]{64}$`)
	// fromRe is a Dockerfile FROM with its image and optional stage name.
	fromRe          = regexp.MustCompile(`(?i)^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$`)
	pinnedBaseImage = regexp.MustCompile(`^[a-z0-9.-]+(?::\d+)?(/[a-z0-9._-]+)*(/)?[a-z0-9._-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)
)

// unpinnedUses returns every action reference in a workflow file that is
// not pinned: an action not at a 40-hex commit followed by `# vX.Y.Z`, or
// a docker:// image without a digest. Local actions (./...) are the
// repository's own code.
func unpinnedUses(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bad []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		m := usesRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ref, rest := strings.Trim(m[1], `"'`), m[2]
		switch {
		case strings.HasPrefix(ref, "./"):
		case strings.HasPrefix(ref, "docker://"):
			if !pinnedDocker.MatchString(ref) {
				bad = append(bad, path+":"+itoa(n)+": "+ref)
			}
		case !pinnedAction.MatchString(ref) || !tagComment.MatchString(rest):
			bad = append(bad, path+":"+itoa(n)+": "+strings.TrimSpace(ref+rest))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return bad
}

// unpinnedFrom returns every FROM of a Dockerfile whose image is not
// `image:tag@sha256:<64 hex>` (a FROM naming an earlier stage is fine).
func unpinnedFrom(dockerfile string) []string {
	var bad []string
	stages := map[string]bool{}
	for n, line := range strings.Split(dockerfile, "\n") {
		m := fromRe.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if !stages[strings.ToLower(m[1])] && !pinnedBaseImage.MatchString(m[1]) {
			bad = append(bad, "Dockerfile:"+itoa(n+1)+": "+m[1])
		}
		if m[2] != "" {
			stages[strings.ToLower(m[2])] = true
		}
	}
	return bad
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSupplyChainPinned: the project's workflows and the examples users
// copy pin every action by commit (tag in a comment), the Dockerfile pins
// its base images by digest, and the release runs only from the default
// branch behind the `release` environment.
func TestSupplyChainPinned(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(".github/workflows/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob("examples/github/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, examples...)
	if len(files) < 3 || len(examples) == 0 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		for _, b := range unpinnedUses(t, f) {
			t.Errorf("unpinned action %s", b)
		}
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if bad := unpinnedFrom(string(df)); len(bad) > 0 {
		t.Errorf("unpinned base images: %v", bad)
	}
	if n := strings.Count(string(df), "\nFROM "); n < 2 {
		t.Errorf("Dockerfile has %d FROM lines, want the build and the run stage", n)
	}
	rel, err := os.ReadFile(".github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"environment: release",
		`"$REF" != "refs/heads/$DEFAULT_BRANCH"`,
		"needs: default-branch-only",
		"if: github.ref == format('refs/heads/{0}', github.event.repository.default_branch)",
		"permissions: {}",
	} {
		if !strings.Contains(string(rel), want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
}

// TestPinCheckersCatchUnpinned: the checkers above refuse what they must
// (so TestSupplyChainPinned can fail).
func TestPinCheckersCatchUnpinned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, "w.yml")
	body := strings.Join([]string{
		"steps:",
		"  - uses: actions/checkout@v4",
		"  - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262",
		"  - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0",
		"  - uses: 'prstate/prstate@main'",
		"  - uses: docker://alpine:3.20",
		"  - uses: docker://alpine@sha256:" + strings.Repeat("a", 64),
		"  - uses: ./local-action",
		"    # uses: commented/out@v1",
		"  - name: x",
		"    uses: owner/repo/sub/path@" + strings.Repeat("b", 40) + " # v2",
		"    uses: owner/repo@" + strings.Repeat("B", 40) + " # v2",
	}, "\n")
	if err := os.WriteFile(wf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := unpinnedUses(t, wf)
	want := []string{":2: actions/checkout@v4", ":3: actions/checkout@", ":5: prstate/prstate@main", ":6: docker://alpine:3.20", ":12: owner/repo@BBBB"}
	if len(bad) != len(want) {
		t.Fatalf("found %q, want %d", bad, len(want))
	}
	for i, w := range want {
		if !strings.Contains(bad[i], w) {
			t.Errorf("%d: %q, want %q", i, bad[i], w)
		}
	}
	df := "FROM golang:1.26-alpine AS build\nFROM golang@sha256:" + strings.Repeat("c", 64) + "\n" +
		"FROM gcr.io/distroless/static-debian12:latest@sha256:" + strings.Repeat("d", 64) + "\nFROM build\nFROM scratch\n"
	if got := unpinnedFrom(df); len(got) != 3 || !strings.Contains(got[0], "golang:1.26-alpine") || !strings.Contains(got[1], "golang@sha256") || !strings.Contains(got[2], "scratch") {
		t.Fatalf("unpinnedFrom: %q", got)
	}
}
