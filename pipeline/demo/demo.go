// Package demo plays `prstate demo`: a whole pull request lifecycle (two
// PRs plan, three merges contend for the apply lock, the PRs are cleaned
// up) as GitHub Actions jobs would run it, each job a full run of the CLI
// (package cli) with its own event payload, outputs and state files, on an
// in-memory S3 bucket and DynamoDB table or against an endpoint. It uses
// only the exported API of the packages it plays. See ARCHITECTURE.md.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prstate/prstate/pipeline/backend"
	"github.com/prstate/prstate/pipeline/cli"
	"github.com/prstate/prstate/pipeline/runner"
	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
	"github.com/prstate/prstate/pipeline/storage/memstore"
	"github.com/prstate/prstate/pipeline/tfstate"
)

const (
	demoBucket = "prstate-demo"
	demoTable  = "prstate-demo-locks"
	demoKey    = "app/terraform.tfstate"
)

// demo is one play of the lifecycle.
type demo struct {
	parent *cli.App
	store  cli.Store
	repo   string // a git checkout with the backend block and the merges
	start  time.Time
	mu     sync.Mutex
	runID  int
}

// Run plays the lifecycle with app's clock, filesystem and standard
// output, in memory when endpoint is empty, else against the S3 and
// DynamoDB API at endpoint (its own bucket and table, emptied first).
func Run(ctx context.Context, app *cli.App, endpoint string) error {
	d := &demo{parent: app, start: app.Now()}
	var err error
	if endpoint == "" {
		d.store = cli.Store{Bucket: memstore.NewBucket(demoBucket), Table: memstore.NewTable(demoTable)}
		d.say("setup", "in-memory S3 bucket %s and DynamoDB table %s", demoBucket, demoTable)
	} else {
		if d.store, err = openEndpoint(ctx, endpoint); err != nil {
			return err
		}
		d.say("setup", "S3 bucket %s and DynamoDB table %s at %s", demoBucket, demoTable, endpoint)
	}
	if d.repo, err = os.MkdirTemp("", "prstate-demo-"); err != nil {
		return fmt.Errorf("failed to create demo repository: %w", err)
	}
	defer os.RemoveAll(d.repo)
	return d.play(ctx)
}

func (d *demo) play(ctx context.Context) error {
	base, err := d.setup(ctx)
	if err != nil {
		return err
	}
	// 1. Two PRs plan at once, each on its own key, seeded from production.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pr := range []int{101, 102} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := d.job(ctx, fmt.Sprintf("pr-%d plan", pr), prPayload("opened", pr, false, base), "plan", "--seed", "production")
			if err == nil {
				d.say(fmt.Sprintf("pr-%d plan", pr), "plans on %s (production untouched, its lock not taken)", out["key"])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	// 2. Three merges land: A (#101), B (#102), C (#103), in that order.
	shas := map[string]string{}
	for _, c := range []struct{ name, msg string }{{"A", "Merge #101"}, {"B", "Merge #102"}, {"C", "Merge #103"}} {
		if shas[c.name], err = d.commit(c.msg); err != nil {
			return err
		}
		d.say("git", "merge %s lands on main as commit %s", c.name, shas[c.name][:7])
	}
	// 3. Their apply jobs contend: B's job is first to the lock, then C's and A's.
	applies := []string{"B", "C", "A"}
	for i, name := range applies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := d.parent.Sleep(ctx, time.Duration(i)*150*time.Millisecond)
			if err == nil {
				err = d.apply(ctx, name, shas[name])
			}
			if err != nil {
				d.say("apply "+name, "failed: %v", err)
			}
		}()
	}
	wg.Wait()
	// 4. The PRs are closed: cleanup removes everything their state left.
	for _, pr := range []int{101, 102} {
		out, err := d.job(ctx, fmt.Sprintf("pr-%d cleanup", pr), prPayload("closed", pr, true, shas["B"]), "cleanup")
		if err != nil {
			return err
		}
		d.say(fmt.Sprintf("pr-%d cleanup", pr), "removed the PR state: %s object versions (%s bytes), its digest and lock items", out["versions-removed"], out["bytes-freed"])
	}
	return d.finish(ctx)
}

// apply is a merge's apply job: lock, apply unless superseded, unlock.
func (d *demo) apply(ctx context.Context, name, sha string) error {
	actor := "apply " + name
	d.say(actor, "waits for the apply lock of %s", demoKey)
	t0 := d.parent.Now()
	out, err := d.job(ctx, actor, pushPayload(sha), "lock", "--lock-timeout", "1m")
	if err != nil {
		return err
	}
	if out["superseded"] == "true" {
		d.say(actor, "superseded by a newer applied commit: skipped, lock released")
		return nil
	}
	d.say(actor, "holds lock %s after %.1fs; terraform apply runs", out["lock-id"], d.parent.Now().Sub(t0).Seconds())
	serial, err := d.bumpProduction(ctx)
	if err != nil {
		return err
	}
	if err := d.parent.Sleep(ctx, 400*time.Millisecond); err != nil {
		return err
	}
	d.say(actor, "applied: production serial %d", serial)
	_, err = d.job(ctx, actor, pushPayload(sha), "unlock", "--lock-id", out["lock-id"])
	return err
}

// job runs one CLI command as a GitHub Actions step of its own.
func (d *demo) job(ctx context.Context, actor string, payload map[string]any, args ...string) (map[string]string, error) {
	dir, err := os.MkdirTemp("", "prstate-job-")
	if err != nil {
		return nil, fmt.Errorf("failed to create job dir: %w", err)
	}
	defer os.RemoveAll(dir)
	d.mu.Lock()
	d.runID++
	runID := d.runID
	d.mu.Unlock()
	eventName := "push"
	if _, ok := payload["pull_request"]; ok {
		eventName = "pull_request"
	}
	body, _ := json.Marshal(payload)
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, body, 0o600); err != nil {
		return nil, fmt.Errorf("failed to write event: %w", err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": eventName, "GITHUB_EVENT_PATH": event,
		"GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": fmt.Sprint(7000 + runID), "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": fmt.Sprint(payload["after"]),
		"INPUT_WORKING-DIRECTORY": d.repo, "PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
	}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"} {
		env[f] = filepath.Join(dir, strings.ToLower(f))
	}
	var stdout, stderr bytes.Buffer
	app := &cli.App{
		Env: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr, FS: d.parent.FS, Cwd: d.repo,
		ReadFile: os.ReadFile, Clock: d.parent.Clock, Open: func(context.Context, backend.Backend) (cli.Store, error) { return d.store, nil },
	}
	if code := app.Run(ctx, args); code != 0 {
		return nil, fmt.Errorf("%s: prstate %s exited %d: %s", actor, strings.Join(args, " "), code, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "::warning") || strings.HasPrefix(line, "::notice") {
			d.say(actor, "annotation %s", line)
		}
	}
	return readOutputs(env["GITHUB_OUTPUT"])
}

// readOutputs reads GITHUB_OUTPUT as the runner does.
func readOutputs(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read outputs: %w", err)
	}
	out, err := runner.ParseFileCommands(string(raw))
	if err != nil {
		return nil, fmt.Errorf("failed to read outputs %s: %w", path, err)
	}
	return out, nil
}

func (d *demo) say(actor, format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.parent.Stdout, "%6.2fs  %-16s %s\n", d.parent.Now().Sub(d.start).Seconds(), actor, fmt.Sprintf(format, args...))
}

// setup writes the root module with its backend block, commits it, and
// gives production a state (serial 5) with its digest.
func (d *demo) setup(ctx context.Context) (string, error) {
	tf := fmt.Sprintf("terraform {\n  backend \"s3\" {\n    bucket         = %q\n    key            = %q\n    region         = \"us-east-1\"\n    dynamodb_table = %q\n  }\n}\n\nresource \"terraform_data\" \"app\" {}\n", demoBucket, demoKey, demoTable)
	if err := os.WriteFile(filepath.Join(d.repo, "main.tf"), []byte(tf), 0o644); err != nil {
		return "", fmt.Errorf("failed to write main.tf: %w", err)
	}
	if err := d.git("init", "-q", "-b", "main"); err != nil {
		return "", err
	}
	base, err := d.commit("Initial infrastructure")
	if err != nil {
		return "", err
	}
	serial, err := d.bumpProduction(ctx)
	if err != nil {
		return "", err
	}
	d.say("setup", "production state %s at serial %d; repository at %s", demoKey, serial, base[:7])
	return base, nil
}

// bumpProduction plays terraform apply on production: a new state version
// with serial+1 and its digest.
func (d *demo) bumpProduction(ctx context.Context) (int64, error) {
	h := tfstate.Header{Version: 4, Serial: 4, Lineage: "3f0c2a9e-demo"}
	if cur, err := d.store.Bucket.GetObject(ctx, demoKey); err == nil {
		if h, err = tfstate.Parse(cur.Body); err != nil {
			return 0, err
		}
	}
	h.Serial++
	body := fmt.Appendf(nil, `{"version":4,"terraform_version":"1.11.4","serial":%d,"lineage":%q,"outputs":{},"resources":[{"mode":"managed","type":"terraform_data","name":"app","provider":"provider[\"terraform.io/builtin/terraform\"]","instances":[{"schema_version":0,"attributes":{"id":"demo"}}]}],"check_results":null}`, h.Serial, h.Lineage)
	if _, err := d.store.Bucket.PutObject(ctx, demoKey, body, storage.PutOptions{}); err != nil {
		return 0, fmt.Errorf("failed to write production state: %w", err)
	}
	item := storage.Item{storage.KeyAttr: statekey.DigestID(demoBucket, demoKey), "Digest": tfstate.MD5Hex(body)}
	if err := d.store.Table.PutItem(ctx, item, storage.Condition{}); err != nil {
		return 0, fmt.Errorf("failed to write production digest: %w", err)
	}
	return h.Serial, nil
}

func (d *demo) finish(ctx context.Context) error {
	objs, err := d.store.Bucket.ListObjects(ctx, "")
	if err != nil {
		return fmt.Errorf("failed to list bucket: %w", err)
	}
	items, err := d.store.Table.ScanItems(ctx, "")
	if err != nil {
		return fmt.Errorf("failed to scan table: %w", err)
	}
	var left []string
	for _, o := range objs {
		left = append(left, "s3://"+demoBucket+"/"+o.Key)
	}
	for _, it := range items {
		left = append(left, "dynamodb "+it[storage.KeyAttr])
	}
	sort.Strings(left)
	d.say("end", "left in the backend: %s", strings.Join(left, ", "))
	return nil
}

func (d *demo) git(args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = d.repo
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=demo", "GIT_AUTHOR_EMAIL=demo@example.com", "GIT_COMMITTER_NAME=demo", "GIT_COMMITTER_EMAIL=demo@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to run git %s: %w: %s", args[0], err, out)
	}
	return nil
}

func (d *demo) commit(msg string) (string, error) {
	if err := d.git("add", "-A"); err != nil {
		return "", err
	}
	if err := d.git("commit", "-q", "--allow-empty", "-m", msg); err != nil {
		return "", err
	}
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = d.repo
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("failed to read HEAD: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func prPayload(action string, pr int, merged bool, sha string) map[string]any {
	return map[string]any{
		"action": action, "number": pr,
		"pull_request": map[string]any{"number": pr, "merged": merged, "state": map[bool]string{true: "closed", false: "open"}[action == "closed"], "head": map[string]any{"sha": sha, "ref": fmt.Sprintf("feature-%d", pr)}, "base": map[string]any{"ref": "main"}},
		"repository":   map[string]any{"full_name": "acme/infra", "default_branch": "main"},
		"after":        sha,
	}
}

func pushPayload(sha string) map[string]any {
	return map[string]any{"ref": "refs/heads/main", "after": sha, "repository": map[string]any{"full_name": "acme/infra", "default_branch": "main"}}
}
