package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/storage"
)

// TestBinaryPlanStickyComment runs the prstate binary as the action would
// on two pushes to a pull request, against moto and a GitHub API fake: the
// first plan seeds from production and creates the PR comment, the second
// edits the same comment in place.
func TestBinaryPlanStickyComment(t *testing.T) {
	t.Parallel()
	bin := testenv.Binary(t)
	m := testenv.Moto(t)
	bucketName := m.NewBucket(t, true)
	state := `{"version":4,"terraform_version":"1.11.4","serial":7,"lineage":"l-1","outputs":{},"resources":[]}`
	if _, err := m.Bucket(t, bucketName).PutObject(context.Background(), "app/terraform.tfstate", []byte(state), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	fake := githubfake.New(t, "acme/infra")
	fake.Token = fakeToken
	dir := t.TempDir()
	payload, err := filepath.Abs(filepath.Join("..", "ci", "testdata", "events", "pull_request_synchronize.json"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), m.Env()...)
	env = append(env,
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH="+payload,
		"GITHUB_REPOSITORY=acme/infra", "GITHUB_RUN_ID=555", "GITHUB_RUN_ATTEMPT=1", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_API_URL="+fake.URL, "GITHUB_OUTPUT="+filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary"),
		"GITHUB_STATE="+filepath.Join(dir, "state"), "GITHUB_ENV="+filepath.Join(dir, "env"),
		"INPUT_GITHUB-TOKEN="+fakeToken, "INPUT_COMMENT=true", "INPUT_SEED=production",
		"INPUT_BUCKET="+bucketName, "INPUT_KEY=app/terraform.tfstate",
	)
	for i := range 2 {
		cmd := exec.Command(bin, "plan")
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("plan %d: %v\n%s", i, err, stderr.String())
		}
		if strings.Contains(stdout.String(), fakeToken) || strings.Contains(strings.ReplaceAll(stderr.String(), "::add-mask::"+fakeToken, ""), fakeToken) {
			t.Fatalf("plan %d printed the token", i)
		}
		if strings.Contains(stderr.String(), "::warning::") {
			t.Fatalf("plan %d warned: %s", i, stderr.String())
		}
	}
	cs := fake.Comments(42)
	if len(cs) != 1 || fake.Requests(githubfake.RouteCreateComment) != 1 || fake.Requests(githubfake.RouteEditComment) != 1 {
		t.Fatalf("comments %d, creates %d, edits %d", len(cs), fake.Requests(githubfake.RouteCreateComment), fake.Requests(githubfake.RouteEditComment))
	}
	if !strings.Contains(cs[0].Body, "Not seeded again: the PR state is an up-to-date seed (production serial 7)") {
		t.Fatalf("comment after the second plan:\n%s", cs[0].Body)
	}
	summary, _ := os.ReadFile(filepath.Join(dir, "summary"))
	if !strings.Contains(string(summary), "seeded from `app/terraform.tfstate` serial 7") || !strings.Contains(string(summary), "[run 555](https://github.com/acme/infra/actions/runs/555)") {
		t.Fatalf("step summary:\n%s", summary)
	}
}
