package report

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/github"
)

func newCommentAPI(t *testing.T) (*githubfake.Server, *github.Client) {
	t.Helper()
	fake := githubfake.New(t, "acme/infra")
	fake.Token = "ghs_test"
	c, err := github.New(fake.Token, fake.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

// TestUpsertCommentCreatesOnceThenEdits: one comment per PR and stack,
// found by its marker on later pages, edited in place, other sections kept.
func TestUpsertCommentCreatesOnceThenEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, api := newCommentAPI(t)
	id := CommentID{Stack: "app", Key: "app/terraform.tfstate"}
	// 150 comments by people first, one of them quoting a prstate comment:
	// ours lands on the second page of 100.
	for i := range 150 {
		body := "looks good"
		if i == 3 {
			body = "> " + id.Marker() + "\n> what does this mean?"
		}
		fake.AddComment(42, "octocat", body)
	}
	step := func(section, text string) (bool, int, int, int) {
		t.Helper()
		fake.ResetRequests()
		created, err := UpsertComment(ctx, api, fake.Repo, 42, github.ActionsBot, id, section, text)
		if err != nil {
			t.Fatalf("%s: %v", section, err)
		}
		return created, fake.Requests(githubfake.RouteListComments), fake.Requests(githubfake.RouteCreateComment), fake.Requests(githubfake.RouteEditComment)
	}
	if created, lists, creates, edits := step(SectionPlan, "plan 1"); !created || lists != 2 || creates != 1 || edits != 0 {
		t.Fatalf("first: created %v, lists %d, creates %d, edits %d", created, lists, creates, edits)
	}
	if created, lists, creates, edits := step(SectionPlan, "plan 2"); created || lists != 2 || creates != 0 || edits != 1 {
		t.Fatalf("second: created %v, lists %d, creates %d, edits %d", created, lists, creates, edits)
	}
	if _, _, creates, edits := step(SectionPlan, "plan 2"); creates != 0 || edits != 0 {
		t.Fatalf("unchanged: creates %d, edits %d", creates, edits)
	}
	if _, _, creates, edits := step(SectionApply, "applied <!-- sneaky -->"); creates != 0 || edits != 1 {
		t.Fatalf("apply: creates %d, edits %d", creates, edits)
	}
	comments := fake.Comments(42)
	if len(comments) != 151 {
		t.Fatalf("%d comments, want 151", len(comments))
	}
	ours := comments[150]
	c, ok := ParseStickyComment(ours.Body)
	if !ok || c.Sections[SectionPlan] != "plan 2" || c.Sections[SectionApply] != "applied &lt;!-- sneaky -->" || !strings.HasPrefix(ours.Body, id.Marker()+"\n") {
		t.Fatalf("comment body:\n%s", ours.Body)
	}
	if comments[3].Body != "> "+id.Marker()+"\n> what does this mean?" {
		t.Fatalf("edited someone's quote: %q", comments[3].Body)
	}
	// Another stack of the same PR has its own comment.
	if created, err := UpsertComment(ctx, api, fake.Repo, 42, github.ActionsBot, CommentID{Stack: "net", Key: "net/terraform.tfstate"}, SectionPlan, "net plan"); err != nil || !created {
		t.Fatalf("second stack: %v, %v", created, err)
	}
	if n := len(fake.Comments(42)); n != 152 {
		t.Fatalf("%d comments, want 152", n)
	}
}

func TestUpsertCommentForbidden(t *testing.T) {
	t.Parallel()
	fake, api := newCommentAPI(t)
	fake.Fail(githubfake.RouteCreateComment, http.StatusForbidden)
	_, err := UpsertComment(context.Background(), api, fake.Repo, 7, github.ActionsBot, CommentID{Stack: ".", Key: "terraform.tfstate"}, SectionPlan, "x")
	if err == nil || !strings.Contains(err.Error(), "pull-requests: write") {
		t.Fatalf("forbidden: %v", err)
	}
	if _, err := UpsertComment(context.Background(), api, fake.Repo, 0, github.ActionsBot, CommentID{}, SectionPlan, "x"); err == nil {
		t.Fatal("commented on PR 0")
	}
}

func TestMergedPullRequestForCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, api := newCommentAPI(t)
	fake.SetPullsForCommit("c1",
		githubfake.Pull{Number: 50, State: "open"},
		githubfake.Pull{Number: 41, State: "closed", Merged: true, MergeCommitSHA: "other"},
		githubfake.Pull{Number: 42, State: "closed", Merged: true, MergeCommitSHA: "c1"})
	fake.SetPullsForCommit("c2", githubfake.Pull{Number: 50, State: "open"}, githubfake.Pull{Number: 43, State: "closed", Merged: true, MergeCommitSHA: "squash"})
	fake.SetPullsForCommit("c3", githubfake.Pull{Number: 50, State: "open"})
	for sha, want := range map[string]int{"c1": 42, "c2": 43, "c3": 0, "c4": 0} {
		got, err := api.MergedPullRequestForCommit(ctx, fake.Repo, sha)
		if err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", sha, got, err, want)
		}
	}
	if n := fake.Requests(githubfake.RouteCommitPulls); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

// FuzzStickyCommentRoundTrip: whatever a section says, rendering and
// parsing back keeps every section apart and the marker first.
func FuzzStickyCommentRoundTrip(f *testing.F) {
	f.Add("app", "app/terraform.tfstate", "plan text", "apply <!-- /prstate-section --> text")
	f.Add(".", "a:b/terraform.tfstate", "", "<!-- prstate-section:plan -->\nx")
	f.Fuzz(func(t *testing.T, stack, key, plan, apply string) {
		if strings.ContainsAny(stack, ":\n") || strings.Contains(key, "\n") || strings.Contains(stack+key, "-->") {
			return // not a directory and key prstate accepts
		}
		c := StickyComment{ID: CommentID{Stack: stack, Key: key}, Sections: map[string]string{SectionPlan: plan, SectionApply: apply}}
		body := c.Render()
		back, ok := ParseStickyComment(body)
		if !ok || back.ID != c.ID {
			t.Fatalf("parse back %q: %+v, %v", body, back.ID, ok)
		}
		for name, text := range c.Sections {
			if want := sanitizeSection(text); back.Sections[name] != want {
				t.Fatalf("section %s: %q, want %q\n%s", name, back.Sections[name], want, body)
			}
		}
		if len(back.Sections) != 2 {
			t.Fatalf("sections %v", back.Sections)
		}
	})
}
