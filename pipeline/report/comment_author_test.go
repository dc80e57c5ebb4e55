package report

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/github"
)

// plantedBody is what an outsider posts to be adopted as the sticky
// comment: the marker, a fake apply result, a phishing link, a tracking
// image, @everyone, and a section of a name prstate never writes.
func plantedBody(id CommentID) string {
	return id.Marker() + "\n#### prstate · `app`\n\n" +
		"<!-- prstate-section:apply -->\n**Apply ran successfully** ✅ [Approve the deploy here](https://evil.example/phish) " +
		"![](https://evil.example/track.gif?u=1) @everyone\n<!-- /prstate-section -->\n\n" +
		"<!-- prstate-section:notice -->\nLog in again at https://evil.example/login\n<!-- /prstate-section -->\n"
}

var plantedWords = []string{"evil.example", "@everyone", "Apply ran successfully", "track.gif", "notice"}

// TestStickyCommentIgnoresPlantedComment: comments that carry prstate's
// marker but were written by anyone but the token's own account (a user,
// another app's bot, a user named like the Actions bot) are neither edited
// nor read: prstate creates its own comment, and nothing of theirs is in
// it. prstate's own comment is found and edited in place.
func TestStickyCommentIgnoresPlantedComment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, api := newCommentAPI(t) // the token is GITHUB_TOKEN: github-actions[bot]
	id := CommentID{Stack: "app", Key: "app/terraform.tfstate"}
	planters := []githubfake.User{
		githubfake.UserNamed("mallory"),
		githubfake.UserNamed("evil-app[bot]"),
		{Login: "github-actions", ID: 7, Type: "User"},
		{Login: "github-actions[bot]", ID: 666, Type: "User"}, // impossible on GitHub; still not ours by type
	}
	var planted []int64
	for _, p := range planters {
		planted = append(planted, fake.AddCommentBy(42, p, plantedBody(id)))
	}
	author, err := CommentAuthor(ctx, api, "")
	if err != nil || !author.Is(github.ActionsBot) {
		t.Fatalf("author %+v, %v; want github-actions[bot]", author, err)
	}
	if created, err := UpsertComment(ctx, api, fake.Repo, 42, author, id, SectionPlan, "plan 1"); err != nil || !created {
		t.Fatalf("first plan: created %v, %v (a planted comment was adopted?)", created, err)
	}
	if created, err := UpsertComment(ctx, api, fake.Repo, 42, author, id, SectionApply, "apply 1"); err != nil || created {
		t.Fatalf("apply: created %v, %v (own comment not found)", created, err)
	}
	comments := fake.Comments(42)
	if len(comments) != len(planters)+1 {
		t.Fatalf("%d comments, want %d", len(comments), len(planters)+1)
	}
	for i, c := range comments[:len(planters)] {
		if c.ID != planted[i] || c.Body != plantedBody(id) {
			t.Errorf("planted comment of %s was edited:\n%s", planters[i].Login, c.Body)
		}
	}
	ours := comments[len(planters)]
	if ours.By != githubfake.ActionsBot {
		t.Fatalf("own comment by %+v", ours.By)
	}
	for _, w := range plantedWords {
		if strings.Contains(ours.Body, w) {
			t.Errorf("own comment carries the planted %q:\n%s", w, ours.Body)
		}
	}
	c, ok := ParseStickyComment(ours.Body)
	if !ok || len(c.Sections) != 2 || c.Sections[SectionPlan] != "plan 1" || c.Sections[SectionApply] != "apply 1" {
		t.Fatalf("own comment:\n%s", ours.Body)
	}
	if n := fake.Requests(githubfake.RouteEditComment); n != 1 {
		t.Fatalf("%d edits, want 1 (the apply section of our own comment)", n)
	}
}

// TestStickyCommentKeepsOnlyOwnSections: even prstate's own comment keeps
// only the sections prstate writes; anything else in it is dropped at the
// next write.
func TestStickyCommentKeepsOnlyOwnSections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, api := newCommentAPI(t)
	id := CommentID{Stack: "app", Key: "app/terraform.tfstate"}
	cid := fake.AddCommentBy(42, githubfake.ActionsBot, plantedBody(id))
	if created, err := UpsertComment(ctx, api, fake.Repo, 42, github.ActionsBot, id, SectionPlan, "plan 1"); err != nil || created {
		t.Fatalf("created %v, %v", created, err)
	}
	got := fake.Comments(42)
	if len(got) != 1 || got[0].ID != cid {
		t.Fatalf("comments %+v", got)
	}
	c, _ := ParseStickyComment(got[0].Body)
	if _, kept := c.Sections["notice"]; kept || c.Sections[SectionPlan] != "plan 1" {
		t.Fatalf("sections %v", c.Sections)
	}
	if _, err := UpsertComment(ctx, api, fake.Repo, 42, github.ActionsBot, id, "notice", "x"); err == nil {
		t.Fatal("wrote a section prstate does not have")
	}
}

// TestCommentAuthorRule: a personal token is asked (GET /user) and only
// its user's comments are adopted; an app installation's token is
// github-actions[bot] unless comment-author names the app, and a comment
// created as someone else says how to fix it.
func TestCommentAuthorRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	id := CommentID{Stack: ".", Key: "terraform.tfstate"}

	t.Run("personal token", func(t *testing.T) {
		t.Parallel()
		fake, api := newCommentAPI(t)
		fake.Identity = githubfake.UserNamed("ci-user")
		bot := fake.AddCommentBy(7, githubfake.ActionsBot, id.Marker()+"\nold")
		author, err := CommentAuthor(ctx, api, "acme-prstate[bot]")
		if err != nil || author.Login != "ci-user" || author.ID != fake.Identity.ID {
			t.Fatalf("author %+v, %v", author, err)
		}
		if created, err := UpsertComment(ctx, api, fake.Repo, 7, author, id, SectionPlan, "p"); err != nil || !created {
			t.Fatalf("created %v, %v", created, err)
		}
		if created, err := UpsertComment(ctx, api, fake.Repo, 7, author, id, SectionPlan, "q"); err != nil || created {
			t.Fatalf("second: created %v, %v", created, err)
		}
		if got := fake.Comments(7); len(got) != 2 || got[0].ID != bot || got[0].Body != id.Marker()+"\nold" {
			t.Fatalf("comments %+v", got)
		}
	})
	t.Run("app token", func(t *testing.T) {
		t.Parallel()
		fake, api := newCommentAPI(t)
		fake.Identity = githubfake.UserNamed("acme-prstate[bot]")
		author, err := CommentAuthor(ctx, api, "")
		if err != nil || !author.Is(github.ActionsBot) {
			t.Fatalf("author %+v, %v", author, err)
		}
		var mismatch *AuthorMismatchError
		if _, err := UpsertComment(ctx, api, fake.Repo, 7, author, id, SectionPlan, "p"); !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "comment-author: acme-prstate[bot]") {
			t.Fatalf("mismatch: %v", err)
		}
		author, err = CommentAuthor(ctx, api, "acme-prstate[bot]")
		if err != nil {
			t.Fatal(err)
		}
		if created, err := UpsertComment(ctx, api, fake.Repo, 7, author, id, SectionPlan, "q"); err != nil || created {
			t.Fatalf("configured: created %v, %v", created, err)
		}
	})
	t.Run("GET /user fails", func(t *testing.T) {
		t.Parallel()
		fake, api := newCommentAPI(t)
		fake.Fail(githubfake.RouteUser, 500)
		if _, err := CommentAuthor(ctx, api, ""); err == nil {
			t.Fatal("no error")
		}
	})
}
