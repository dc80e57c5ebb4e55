package cleanuptest_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prstate/prstate/internal/cleanuptest"
	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/cli"
	"github.com/prstate/prstate/pipeline/clock"
	"github.com/prstate/prstate/pipeline/storage/awsstore"
)

// motoStore makes a fresh bucket and table in moto.
func motoStore(m *testenv.MotoServer) cleanuptest.NewStore {
	return func(t *testing.T, versioned bool) cleanuptest.Store {
		return cleanuptest.Store{Bucket: m.Bucket(t, m.NewBucket(t, versioned)), Table: m.Table(t, m.NewTable(t))}
	}
}

// TestCleanupScenariosOnMoto runs the memstore scenarios on S3 and DynamoDB
// as moto emulates them (real versioning, conditional writes, batch deletes).
func TestCleanupScenariosOnMoto(t *testing.T) {
	cleanuptest.Run(t, motoStore(testenv.Moto(t)))
}

// runCLI runs prstate in-process against moto with env as the environment.
func runCLI(t *testing.T, m *testenv.MotoServer, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli.App{
		Env: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb, FS: os.DirFS("/"), Cwd: t.TempDir(),
		ReadFile: os.ReadFile, Clock: clock.Real,
		Open: func(_ context.Context, b backend.Backend) (cli.Store, error) {
			s := cli.Store{Bucket: awsstore.NewBucket(m.S3(), b.Bucket)}
			if b.DynamoDBTable != "" {
				s.Table = awsstore.NewTable(m.DynamoDB(), b.DynamoDBTable)
			}
			return s, nil
		},
	}
	code = app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestCleanupCommandOnMoto drives `prstate cleanup` on moto: an applied-to
// PR state is refused with exit 1, then removed with --force; production
// stays byte for byte.
func TestCleanupCommandOnMoto(t *testing.T) {
	m := testenv.Moto(t)
	s := motoStore(m)(t, true)
	st := cleanuptest.Stack(t, s, true, true, false)
	cleanuptest.Production(t, s)
	key := cleanuptest.SeededPR(t, s, st, 31, 2)
	cleanuptest.Put(t, s, key, cleanuptest.StateJSON(20, cleanuptest.Lineage, "terraform_data.a", "terraform_data.b", "terraform_data.preview"))
	before := cleanuptest.Take(t, s)
	args := []string{"cleanup", "--bucket", s.Bucket.Name(), "--key", cleanuptest.Prod, "--dynamodb-table", s.Table.Name(), "--use-lockfile", "--pr", "31"}
	code, out, errs := runCLI(t, m, map[string]string{}, args...)
	if code != 1 || !strings.Contains(out, "would orphan terraform_data.preview") {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, out, errs)
	}
	if d := cleanuptest.Diff(before, cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("refused cleanup changed:\n%s", strings.Join(d, "\n"))
	}
	code, out, errs = runCLI(t, m, map[string]string{}, append(args, "--force")...)
	if code != 0 || !strings.Contains(out, "removed "+key+" (PR #31): 9 version(s)") { // state 4, .tflock 4, seed record 1
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if d := cleanuptest.Diff(before.Without(s.Bucket.Name(), key, key+".tflock"), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("changed beyond the PR key:\n%s", strings.Join(d, "\n"))
	}
}

// TestSweepOnMoto: the sweep against moto and a fake GitHub removes the
// states of closed PRs only.
func TestSweepOnMoto(t *testing.T) {
	m := testenv.Moto(t)
	s := motoStore(m)(t, true)
	st := cleanuptest.Stack(t, s, true, true, false)
	cleanuptest.Production(t, s)
	now := time.Now()
	var pulls []githubfake.Pull
	var gone []string
	for pr := 1; pr <= 6; pr++ {
		key := cleanuptest.SeededPR(t, s, st, pr, 1)
		closed := pr%2 == 0
		if closed {
			gone = append(gone, key, key+".tflock")
		}
		pulls = append(pulls, githubfake.Pull{Number: pr, State: githubfake.StateOf(closed), UpdatedAt: now.Add(time.Duration(pr) * time.Minute)})
	}
	gh := githubfake.New(t, "acme/infra")
	gh.Token = "ghs_moto"
	gh.AddPulls(pulls...)
	before := cleanuptest.Take(t, s)
	env := map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_REPOSITORY": "acme/infra", "PRSTATE_GITHUB_TOKEN": "ghs_moto"}
	code, out, errs := runCLI(t, m, env, "sweep", "--bucket", s.Bucket.Name(), "--key", cleanuptest.Prod, "--dynamodb-table", s.Table.Name(), "--use-lockfile")
	if code != 0 || strings.Count(out, "removed ") != 3 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if d := cleanuptest.Diff(before.Without(s.Bucket.Name(), gone...), cleanuptest.Take(t, s)); len(d) > 0 {
		t.Fatalf("sweep changed more than PRs 2, 4, 6:\n%s", strings.Join(d, "\n"))
	}
	if n := gh.AllRequests(); n != 1 {
		t.Fatalf("%d GitHub requests, want 1", n)
	}
}
