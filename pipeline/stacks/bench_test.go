package stacks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/testenv"
)

const (
	benchStacks  = 1000
	benchModules = 200
)

// genRepo writes a repository of benchStacks stacks (each a backend "s3"
// block, variables and two calls of shared local modules) and
// benchModules shared modules, nine in ten of which call the next one
// (chains up to ten deep), commits it, and commits on a branch a change
// of one module. It returns the repository and the base commit.
func genRepo(b *testing.B) (dir, base string) {
	dir = b.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for m := range benchModules {
		body := fmt.Sprintf("variable \"name\" {\n  type = string\n}\n\nresource \"null_resource\" \"m%d\" {\n  triggers = { name = var.name }\n}\n", m)
		if m%10 != 9 {
			body += fmt.Sprintf("\nmodule \"next\" {\n  source = \"../m%03d\"\n  name   = var.name\n}\n", m+1)
		}
		write(fmt.Sprintf("modules/m%03d/main.tf", m), body)
	}
	for s := range benchStacks {
		d := fmt.Sprintf("stacks/team%02d/s%04d", s%50, s)
		write(d+"/backend.tf", fmt.Sprintf("terraform {\n  backend \"s3\" {\n    bucket = \"acme-state\"\n    key    = \"%s/terraform.tfstate\"\n    region = \"eu-west-1\"\n  }\n}\n", d))
		write(d+"/main.tf", fmt.Sprintf("module \"a\" {\n  source = \"../../../modules/m%03d\"\n  name   = \"a%d\"\n}\n\nmodule \"b\" {\n  source = \"../../../modules/m%03d\"\n  name   = \"b%d\"\n}\n\nmodule \"vpc\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.0.0\"\n}\n", (s*7)%benchModules, s, (s*13+5)%benchModules, s))
		write(d+"/variables.tf", "variable \"env\" {\n  default = \"prod\"\n}\n")
	}
	testenv.Git(b, dir, "init", "-q", "-b", "main")
	testenv.Git(b, dir, "add", "-A")
	testenv.Git(b, dir, "commit", "-q", "-m", "base")
	base = testenv.Git(b, dir, "rev-parse", "HEAD")
	testenv.Git(b, dir, "checkout", "-q", "-b", "pr")
	write("modules/m105/main.tf", "variable \"name\" {\n  type = string\n}\n")
	testenv.Git(b, dir, "commit", "-q", "-am", "change m105")
	return dir, base
}

// timeCmd runs name in dir n times and returns the median wall time and
// the last run's stdout.
func timeCmd(b *testing.B, dir string, n int, name string, args ...string) (time.Duration, string) {
	var times []time.Duration
	var out []byte
	for range n {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=", "GITLAB_CI=", "CI=")
		start := time.Now()
		o, err := cmd.Output()
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatalf("%s %v: %v: %s", name, args, err, o)
		}
		out = o
	}
	slices.Sort(times)
	return times[len(times)/2], string(out)
}

// BenchmarkStacks: prstate stacks and stacks --changed (git diff of a pull
// request that edits one shared module) on a generated repository of
// 1,000 stacks and 200 shared local modules, beside what a user would
// script instead, find | xargs grep -l 'backend "s3"' (which lists stacks
// but cannot say which a change touches), measured in the same run,
// median of 5 runs each, as separate processes. Goal: under 1 s.
//
//	go test -run '^$' -bench Stacks -benchtime 1x ./pipeline/stacks/
func BenchmarkStacks(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the binary and a repository of 1,000 stacks")
	}
	bin := testenv.Binary(b)
	dir, base := genRepo(b)
	for range b.N {
		list, out := timeCmd(b, dir, 5, bin, "stacks")
		all := strings.Count(out, "\n")
		changed, out := timeCmd(b, dir, 5, bin, "stacks", "--changed", "--base", base)
		touched := strings.Count(out, "\n")
		find, out := timeCmd(b, dir, 5, "sh", "-c", `find . -name '*.tf' | xargs grep -l 'backend "s3"'`)
		found := strings.Count(out, "\n")
		// m100..m104 call the next module down to m105: a stack is
		// touched when module a or b is one of m100..m105.
		want := 0
		for s := range benchStacks {
			if in := func(m int) bool { return m >= 100 && m <= 105 }; in((s*7)%benchModules) || in((s*13+5)%benchModules) {
				want++
			}
		}
		if all != benchStacks || found != benchStacks || touched != want {
			b.Fatalf("stacks %d, find|grep %d, changed %d (want %d)", all, found, touched, want)
		}
		fmt.Fprintf(os.Stdout, "\n%d stacks, %d shared local modules (goal: under 1 s)\n", benchStacks, benchModules)
		fmt.Fprintf(os.Stdout, "%-58s %10s %8s\n", "", "time", "listed")
		fmt.Fprintf(os.Stdout, "%-58s %10s %8d\n", "prstate stacks", list.Round(time.Millisecond), all)
		fmt.Fprintf(os.Stdout, "%-58s %10s %8d\n", "prstate stacks --changed (PR edits modules/m105)", changed.Round(time.Millisecond), touched)
		fmt.Fprintf(os.Stdout, "%-58s %10s %8d\n", `find . -name '*.tf' | xargs grep -l 'backend "s3"'`, find.Round(time.Millisecond), found)
		b.ReportMetric(list.Seconds(), "stacks-s")
		b.ReportMetric(changed.Seconds(), "changed-s")
		b.ReportMetric(find.Seconds(), "find-grep-s")
	}
}
