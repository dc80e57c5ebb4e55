package cli

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/clock/clocktest"
	"github.com/prstate/prstate/pipeline/statekey"
)

const testToken = "ghs_sweepTestToken0123456789"

// runAt runs the CLI like testApp.run with the clock set to now.
func (a *testApp) runAt(now time.Time, args ...string) int {
	a.stdout.Reset()
	a.stderr.Reset()
	app := a.app()
	app.Clock = clocktest.At(now)
	return app.Run(context.Background(), args)
}

// sweepWorld: PR states 1..8 in a memstore, PRs 2, 5 and 8 closed among
// 250 other closed PRs (3 pages), the rest open.
func sweepWorld(t *testing.T) (*testApp, cleanuptest.Store, statekey.Stack, *githubfake.Server) {
	t.Helper()
	store, s := memStore()
	a := newTestApp(t, store)
	a.actions("schedule", "schedule.json")
	cleanuptest.Production(t, s)
	st := cleanuptest.Stack(t, s, true, true, false)
	for pr := 1; pr <= 8; pr++ {
		cleanuptest.SeededPR(t, s, st, pr, 1)
	}
	now := time.Now()
	var pulls []githubfake.Pull
	for i := range 250 {
		pulls = append(pulls, githubfake.Pull{Number: 100 + i, State: "closed", Merged: i%2 == 0, UpdatedAt: now.Add(time.Duration(300-i) * time.Minute)})
	}
	pulls = append(pulls,
		githubfake.Pull{Number: 2, State: "closed", Merged: true, UpdatedAt: now.Add(400 * time.Minute)}, // page 1
		githubfake.Pull{Number: 5, State: "closed", UpdatedAt: now.Add(200 * time.Minute)},               // page 2
		githubfake.Pull{Number: 8, State: "closed", Merged: true, UpdatedAt: now.Add(60 * time.Minute)},  // page 3
	)
	for _, n := range []int{1, 3, 4, 6, 7, 9} {
		pulls = append(pulls, githubfake.Pull{Number: n, UpdatedAt: now.Add(500 * time.Minute)})
	}
	gh := githubfake.New(t, "acme/infra")
	gh.Token = testToken
	gh.AddPulls(pulls...)
	a.env["GITHUB_API_URL"] = gh.URL
	a.env["INPUT_GITHUB-TOKEN"] = testToken
	a.env["INPUT_BUCKET"], a.env["INPUT_KEY"], a.env["INPUT_DYNAMODB-TABLE"], a.env["INPUT_USE-LOCKFILE"] = "acme-state", cleanuptest.Prod, "tf-locks", "true"
	return a, s, st, gh
}

func TestSweepRemovesOnlyClosedPRs(t *testing.T) {
	t.Parallel()
	a, s, st, gh := sweepWorld(t)
	before := cleanuptest.Take(t, s)
	if code := a.run("sweep"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	var gone []string
	for _, pr := range []int{2, 5, 8} {
		k, _ := st.Keys.Render(pr)
		gone = append(gone, k, k+".tflock")
		if !strings.Contains(a.stdout.String(), "removed "+k+" (PR #"+itoa(pr)+") [closed]") {
			t.Errorf("stdout lacks PR %d:\n%s", pr, a.stdout.String())
		}
	}
	if d := cleanuptest.Diff(before.Without("acme-state", gone...), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("sweep changed more than PRs 2, 5, 8:\n%s", strings.Join(d, "\n"))
	}
	// Open PRs 1, 3, 4, 6, 7 stay unresolved: every closed page is read, once.
	if n := gh.AllRequests(); n != 3 {
		t.Fatalf("%d GitHub requests, want 3 (pages of 100): %v", n, gh.Queries(githubfake.RouteListPulls))
	}
	for _, q := range gh.Queries(githubfake.RouteListPulls) {
		for _, want := range []string{"state=closed", "sort=updated", "direction=desc", "per_page=100"} {
			if !strings.Contains(q, want) {
				t.Fatalf("query %q lacks %s", q, want)
			}
		}
	}
	if !strings.Contains(a.stdout.String(), "8 PR state(s) found; 3 of their PRs closed (3 GitHub request(s))") {
		t.Errorf("stdout:\n%s", a.stdout.String())
	}
	if out := a.file("github_output"); !strings.Contains(out, "deleted<<") || !strings.Contains(out, "\n3\n") {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	if sum := a.file("github_step_summary"); !strings.Contains(sum, "### prstate sweep") || !strings.Contains(sum, "| #5 (closed) |") {
		t.Errorf("step summary:\n%s", sum)
	}
	// The token appears only in the ::add-mask:: command that hides it.
	stderr := strings.ReplaceAll(a.stderr.String(), "::add-mask::"+testToken, "")
	if !strings.Contains(a.stderr.String(), "::add-mask::"+testToken) {
		t.Error("the token was not masked")
	}
	for _, out := range []string{a.stdout.String(), stderr, a.file("github_output"), a.file("github_step_summary")} {
		if strings.Contains(out, testToken) {
			t.Fatalf("the token was printed:\n%s", out)
		}
	}
}

func TestSweepStopsPagingPastTheOldestState(t *testing.T) {
	t.Parallel()
	store, s := memStore()
	a := newTestApp(t, store)
	a.actions("schedule", "schedule.json")
	st := cleanuptest.Stack(t, s, false, true, false)
	cleanuptest.Production(t, s)
	cleanuptest.SeededPR(t, s, st, 3, 0)
	cleanuptest.SeededPR(t, s, st, 4, 0)
	now := time.Now()
	pulls := []githubfake.Pull{{Number: 4, State: "closed", UpdatedAt: now.Add(time.Hour)}, {Number: 3, UpdatedAt: now}}
	for i := range 2000 { // years of closed PRs, one every 6 hours
		pulls = append(pulls, githubfake.Pull{Number: 10 + i, State: "closed", UpdatedAt: now.Add(-time.Duration(i) * 6 * time.Hour)})
	}
	gh := githubfake.New(t, "acme/infra")
	gh.Token = testToken
	gh.AddPulls(pulls...)
	a.env["GITHUB_API_URL"], a.env["INPUT_GITHUB-TOKEN"] = gh.URL, testToken
	if code := a.run("sweep", "--bucket", "acme-state", "--key", cleanuptest.Prod, "--dynamodb-table", "tf-locks", "--json"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	var rep sweepReport
	if err := json.Unmarshal(a.stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 || rep.GitHubRequests != 1 || gh.AllRequests() != 1 || len(rep.ClosedPRs) != 1 || rep.ClosedPRs[0] != 4 {
		t.Fatalf("report %+v, %d requests; want PR 4 removed after 1 request", rep, gh.AllRequests())
	}
}

func TestSweepDryRunDeletesNothing(t *testing.T) {
	t.Parallel()
	a, s, _, _ := sweepWorld(t)
	before := cleanuptest.Take(t, s)
	if code := a.run("sweep", "--dry-run"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if n := strings.Count(a.stdout.String(), "would remove "); n != 3 {
		t.Fatalf("stdout:\n%s", a.stdout.String())
	}
	if d := cleanuptest.Diff(before, cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("dry run changed:\n%s", strings.Join(d, "\n"))
	}
	if out := a.file("github_output"); !strings.Contains(out, "deleted<<") || !strings.Contains(out, "\n0\n") {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
}

func TestSweepByAgeWithoutToken(t *testing.T) {
	t.Parallel()
	a, s, st, gh := sweepWorld(t)
	delete(a.env, "INPUT_GITHUB-TOKEN")
	if code := a.run("sweep"); code != 2 || !strings.Contains(a.stderr.String(), "github-token") {
		t.Fatalf("no token, no --older-than: exit %d: %s", code, a.stderr.String())
	}
	before := cleanuptest.Take(t, s)
	if code := a.runAt(time.Now().Add(time.Hour), "sweep", "--older-than", "2h"); code != 0 || !strings.Contains(a.stdout.String(), "no PR state to remove") {
		t.Fatalf("young states: exit %d: %s %s", code, a.stdout.String(), a.stderr.String())
	}
	if code := a.runAt(time.Now().Add(10*24*time.Hour), "sweep", "--older-than", "7d"); code != 0 {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if !strings.Contains(a.stderr.String(), "by age alone") || !strings.Contains(a.stdout.String(), "[not written for 10d]") {
		t.Fatalf("stdout %s\nstderr %s", a.stdout.String(), a.stderr.String())
	}
	var all []string
	for pr := 1; pr <= 8; pr++ {
		k, _ := st.Keys.Render(pr)
		all = append(all, k, k+".tflock")
	}
	if d := cleanuptest.Diff(before.Without("acme-state", all...), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("changed beyond the PR states:\n%s", strings.Join(d, "\n"))
	}
	if gh.AllRequests() != 0 {
		t.Fatalf("asked GitHub without a token")
	}
}

func TestSweepBadToken(t *testing.T) {
	t.Parallel()
	a, s, _, _ := sweepWorld(t)
	a.env["INPUT_GITHUB-TOKEN"] = "ghs_wrong"
	before := cleanuptest.Take(t, s)
	if code := a.run("sweep"); code != 1 || !strings.Contains(a.stderr.String(), "401") {
		t.Fatalf("exit %d: %s", code, a.stderr.String())
	}
	if d := cleanuptest.Diff(before, cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("changed:\n%s", strings.Join(d, "\n"))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
