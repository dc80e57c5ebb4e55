package cli

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
)

// TestPlanCommentIgnoresPlantedComment: an outsider's comment carrying the
// sticky marker, a fake "Apply ran successfully", a phishing link, a
// tracking image and @everyone is neither edited nor kept: the plan step
// creates prstate's own comment (as github-actions[bot]) and edits that one
// at the next plan.
func TestPlanCommentIgnoresPlantedComment(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, Store{})
	fake := a.withGitHub(t)
	a.actions("pull_request", "pull_request_opened.json")
	a.env["GITHUB_API_URL"] = fake.URL
	planted := "<!-- prstate:.:app/terraform.tfstate -->\n#### prstate\n\n<!-- prstate-section:apply -->\n" +
		"**Apply ran successfully** [details](https://evil.example/phish) ![](https://evil.example/t.gif) @everyone\n<!-- /prstate-section -->\n"
	pid := fake.AddComment(42, "mallory", planted)
	flags := []string{"plan", "--bucket", "acme-state", "--key", "app/terraform.tfstate", "--comment"}
	for range 2 {
		if code := a.run(flags...); code != 0 {
			t.Fatalf("exit %d: %s", code, a.stderr.String())
		}
	}
	cs := fake.Comments(42)
	if len(cs) != 2 || cs[0].ID != pid || cs[0].Body != planted {
		t.Fatalf("the planted comment was touched: %+v", cs)
	}
	if cs[1].By != githubfake.ActionsBot || fake.Requests(githubfake.RouteCreateComment) != 1 || fake.Requests(githubfake.RouteEditComment) != 0 {
		t.Fatalf("own comment by %+v, creates %d, edits %d", cs[1].By, fake.Requests(githubfake.RouteCreateComment), fake.Requests(githubfake.RouteEditComment))
	}
	for _, bad := range []string{"evil.example", "@everyone", "Apply ran", "prstate-section:apply"} {
		if strings.Contains(cs[1].Body, bad) {
			t.Errorf("own comment carries %q:\n%s", bad, cs[1].Body)
		}
	}
	if !strings.Contains(cs[1].Body, "**Plans** of this pull request use") {
		t.Errorf("own comment:\n%s", cs[1].Body)
	}
	if code := a.run(append(flags, "--comment-author", "mallory")...); code != 2 || !strings.Contains(a.stderr.String(), "invalid comment-author") {
		t.Fatalf("comment-author mallory: exit %d: %s", code, a.stderr.String())
	}
}
