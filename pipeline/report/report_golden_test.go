package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/ci"
	"github.com/prstate/prstate/pipeline/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pipeline -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./pipeline -run %s -update rewrites it)\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

var (
	goldenLinks = ci.Links{ServerURL: "https://github.com", Repository: "acme/infra"}
	goldenAt    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	shaA        = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
	shaC        = "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"
	runURL      = "https://github.com/acme/infra/actions/runs/9001"
	newerRunURL = "https://github.com/acme/infra/actions/runs/9003/attempts/2"
)

func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	applied := ApplyReport{Outcome: ApplyStarted, Key: "app/terraform.tfstate", Commit: shaC, RunURL: newerRunURL, At: goldenAt,
		Lock: LockSummary{Held: true, Waited: 130*time.Second + 400*time.Millisecond, BehindRunURL: "https://github.com/acme/infra/actions/runs/8990", BehindCommit: "1111111111111111111111111111111111111111"}}
	superseded := ApplyReport{Outcome: ApplySuperseded, Key: "app/terraform.tfstate", Commit: shaA, RunURL: runURL, At: goldenAt,
		Lock:  LockSummary{Held: true, Waited: 42 * time.Second, BehindRunURL: newerRunURL, BehindCommit: shaC},
		Newer: applylock.LedgerEntry{SHA: shaC, Run: applylock.Run{RunURL: newerRunURL}, Started: goldenAt.Add(-time.Minute)}}
	cases := map[string]Summary{
		"summary_lock.md": {Command: "lock", Links: goldenLinks, Rows: []SummaryRow{applied.SummaryRow("app", goldenLinks)}},
		"summary_lock_superseded.md": {Command: "lock", Links: goldenLinks, Rows: []SummaryRow{superseded.SummaryRow("app", goldenLinks)},
			Notes: []string{"commit `0a1b2c3` is superseded: skipped, exit 0, output `superseded=true`"}},
		"summary_plan.md": {Command: "plan", Links: goldenLinks, Rows: []SummaryRow{
			{Stack: "app", Key: "app/pr-42/terraform.tfstate", Result: SeedWords(&plan.SeedResult{Seeded: true, Source: "app/terraform.tfstate", Serial: 7}), Commit: shaA, RunURL: runURL},
			{Stack: "net|work", Key: "net/pr-42/terraform.tfstate", Result: SeedWords(nil)},
		}},
		"summary_run_failed.md": {Command: "run", Links: ci.Links{}, Rows: []SummaryRow{
			ApplyReport{Outcome: ApplyFailed, Key: "terraform.tfstate", Commit: shaC, Lock: LockSummary{Held: true, TookOver: true}, Detail: "terraform exited 1"}.SummaryRow(".", ci.Links{}),
		}},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden(t, name, RenderSummary(s))
		})
	}
}

func TestCommentGolden(t *testing.T) {
	t.Parallel()
	id := CommentID{Stack: "app", Key: "app/terraform.tfstate"}
	planned := PlanSection(PlanReport{Key: "app/pr-42/terraform.tfstate", Production: "app/terraform.tfstate",
		Seed: &plan.SeedResult{Seeded: true, Source: "app/terraform.tfstate", Serial: 7}, Commit: shaA, RunURL: runURL, At: goldenAt}, goldenLinks)
	waited := ApplySection(ApplyReport{Outcome: ApplyApplied, Key: "app/terraform.tfstate", Commit: shaC, RunURL: newerRunURL, At: goldenAt,
		Lock: LockSummary{Held: true, Waited: 95 * time.Second, BehindRunURL: "https://github.com/acme/infra/actions/runs/8990", BehindCommit: "1111111111111111111111111111111111111111"}}, goldenLinks)
	superseded := ApplySection(ApplyReport{Outcome: ApplySuperseded, Key: "app/terraform.tfstate", Commit: shaA, RunURL: runURL, At: goldenAt,
		Newer: applylock.LedgerEntry{SHA: shaC, Run: applylock.Run{RunURL: newerRunURL}, Started: goldenAt.Add(-time.Minute)}}, goldenLinks)
	cleanup := CleanupSection(CleanupReport{Key: "app/pr-42/terraform.tfstate", At: goldenAt.Add(time.Hour), RunURL: runURL, Removed: 5}, goldenLinks)
	cases := map[string]StickyComment{
		"comment_plan.md":                 {ID: id, Sections: map[string]string{SectionPlan: planned}},
		"comment_applied_cleaned_up.md":   {ID: id, Sections: map[string]string{SectionCleanup: cleanup, SectionApply: waited, SectionPlan: planned}},
		"comment_superseded.md":           {ID: id, Sections: map[string]string{SectionPlan: planned, SectionApply: superseded}},
		"comment_workspace_not_seeded.md": {ID: CommentID{Stack: ".", Key: "terraform.tfstate"}, Sections: map[string]string{SectionPlan: PlanSection(PlanReport{Key: "env:/pr-42/terraform.tfstate", Workspace: "pr-42", Production: "terraform.tfstate", Seed: &plan.SeedResult{Reason: "the PR state exists and was written by Terraform"}, At: goldenAt}, ci.Links{})}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := c.Render()
			golden(t, name, body)
			// What is rendered parses back to the same sections.
			back, ok := ParseStickyComment(body)
			if !ok || back.ID != c.ID || len(back.Sections) != len(c.Sections) {
				t.Fatalf("parse back: %+v, %v", back, ok)
			}
			for k, v := range c.Sections {
				if back.Sections[k] != v {
					t.Errorf("section %s: %q, want %q", k, back.Sections[k], v)
				}
			}
		})
	}
}
