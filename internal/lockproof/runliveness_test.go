package lockproof

import (
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
)

// stubborn is a command that writes who's lines and ignores SIGINT and
// SIGTERM (its children inherit that): only SIGKILL stops it.
func (tl *timeline) stubborn(who string) []string {
	return []string{"sh", "-c", `trap "" INT TERM; while :; do echo "` + who + ` $(date +%s%N)" >> "` + tl.path + `"; sleep 0.05; done`}
}

// TestCompletedRunOfAPartitionedHolderDoesNotOverlap: the holder (run
// 4242) is cut off from the store, and GitHub says its run completed (a
// cancelled job whose runner could not reach the store). Its command
// ignores SIGINT and SIGTERM, so it runs until the holder's kill time. A
// waiter that asks GitHub takes over on run liveness only after that
// kill time (and a renewal's timeout): the waiter's command starts after
// the holder's last line.
func TestCompletedRunOfAPartitionedHolderDoesNotOverlap(t *testing.T) {
	testenv.SkipShort(t, "runs the built binary against moto and MinIO")
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			const token = "ghs_runliveness_secret_token"
			gh := githubfake.New(t, "acme/infra")
			gh.Token = token
			gh.SetRun(4242, "in_progress")
			w := newWorld(t, backend)
			tl := newTimeline(t)
			cut := testenv.NewFaultProxy(t, w.endpoint, testenv.Faults{})
			holderEnv := append(actionsEnv(t), "AWS_ENDPOINT_URL_S3="+cut.URL, "AWS_ENDPOINT_URL_DYNAMODB="+cut.URL)
			holder := w.start(t, holderEnv, runArgs(fenceLease, nil, tl.stubborn("A"))...)
			oldID := w.holds(t, 20*time.Second, "")
			waitFor(t, 10*time.Second, "the holder's command", func() bool { return tl.spans(t)["A"].lines > 0 })
			waiter := w.start(t, []string{"GITHUB_API_URL=" + gh.URL, "PRSTATE_GITHUB_TOKEN=" + token},
				runArgs(fenceLease, []string{"--lock-timeout", "1m"}, tl.forLines("B", 10))...)
			time.Sleep(fenceLease / 2)
			cut.Stall()
			gh.SetRun(4242, "completed")
			cutAt := time.Now()
			newID := w.holds(t, 30*time.Second, oldID)
			tookOver := time.Now()
			code := holder.wait(t, 30*time.Second)
			wcode := waiter.wait(t, 60*time.Second)
			cut.Resume()
			a, b := tl.spans(t)["A"], tl.spans(t)["B"]
			reason := "its lease lapsed"
			if strings.Contains(waiter.stderr.String(), "run has completed") {
				reason = "its run completed"
			}
			t.Logf("%s: cut and run completed at 0; holder's command (ignores SIGINT/SIGTERM) last wrote at +%s; waiter took over (%s) at +%s, its command started at +%s: gap %s; holder exited %d",
				backend, a.last.Sub(cutAt).Round(time.Millisecond), reason, tookOver.Sub(cutAt).Round(time.Millisecond), b.first.Sub(cutAt).Round(time.Millisecond), b.first.Sub(a.last).Round(time.Millisecond), code)
			if newID == oldID || wcode != 0 || b.lines != 10 {
				t.Fatalf("waiter: exit %d, %d lines\n%s", wcode, b.lines, waiter.stderr.String())
			}
			if !b.first.After(a.last) {
				t.Errorf("overlap: the holder's command ran until %s, the waiter's began at %s (%s earlier)", a.last.Format(time.StampMilli), b.first.Format(time.StampMilli), a.last.Sub(b.first))
			}
			if code == 0 || !strings.Contains(holder.stderr.String(), "lost the apply lock") {
				t.Errorf("holder: exit %d\n%s", code, holder.stderr.String())
			}
			if gh.Requests(githubfake.RouteRun) == 0 {
				t.Error("the waiter never asked GitHub about the holder's run")
			}
			if strings.Contains(waiter.stderr.String()+holder.stderr.String(), token) {
				t.Error("token printed")
			}
		})
	}
}
