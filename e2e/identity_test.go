package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/prstate/prstate/internal/testenv"
)

// The identity tests: prstate acts as the identity terraform acts as with
// the same backend block. Every request reaches moto through a
// SigningRecorder, which names the access key that signed it.

const (
	// baseKey is the job's own credentials (runnerEnv's AWS_ACCESS_KEY_ID).
	baseKey = "test"
	// stateRole is the role the backend block assumes to reach the state.
	stateRole   = "arn:aws:iam::123456789012:role/tfstate"
	sessionName = "ci-state"
	// sessionARN is who STS says the assumed role's session is.
	sessionARN = "arn:aws:sts::123456789012:assumed-role/tfstate/" + sessionName
)

// assumeRoleBlock is the usual way to reach a state bucket in another
// account.
var assumeRoleBlock = fmt.Sprintf("    assume_role = {\n      role_arn     = %q\n      session_name = %q\n    }\n", stateRole, sessionName)

// identityCheckout is a checkout whose backend block reaches S3, DynamoDB
// and STS through rec, has extra (e.g. assume_role) and leaves terraform's
// credential validation on (sts:GetCallerIdentity), as a real block does.
func (s *stack) identityCheckout(rec *testenv.SigningRecorder, extra string, resources ...string) *stack {
	s.t.Helper()
	c := s.checkout(rec.URL, resources...)
	tf := filepath.Join(c.dir, "main.tf")
	src := readFile(s.t, tf)
	for old, repl := range map[string]string{
		fmt.Sprintf("dynamodb = %q }", rec.URL):    fmt.Sprintf("dynamodb = %q, sts = %q }", rec.URL, rec.URL),
		"    skip_credentials_validation = true\n": "",
		"    skip_requesting_account_id  = true\n": "",
		"  backend \"s3\" {\n":                     "  backend \"s3\" {\n" + extra,
	} {
		if !strings.Contains(src, old) {
			s.t.Fatalf("main.tf lacks %q:\n%s", old, src)
		}
		src = strings.Replace(src, old, repl, 1)
	}
	if err := os.WriteFile(tf, []byte(src), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// signerCounts is what one step sent, by service and signer.
type signerCounts struct {
	assumeRole, callerIdentity, s3, dynamodb int
}

func (c signerCounts) String() string {
	return fmt.Sprintf("sts:AssumeRole %d, sts:GetCallerIdentity %d, S3 %d, DynamoDB %d", c.assumeRole, c.callerIdentity, c.s3, c.dynamodb)
}

// checkAssumedSigners checks the calls rec saw from the from-th on, made
// by processes prstate processes (each assumes the role once; 0: terraform
// or tofu, which configure the backend more than once per command): every
// AssumeRole was signed by the base key, every other request by a session
// key STS issued for the role, none by the base key.
func checkAssumedSigners(t *testing.T, rec *testenv.SigningRecorder, from, processes int, step string) signerCounts {
	t.Helper()
	var n signerCounts
	for _, c := range rec.Calls()[from:] {
		if c.Service == "sts" && c.Action == "AssumeRole" {
			n.assumeRole++
			if c.AKID != baseKey || c.Status != 200 {
				t.Errorf("%s: AssumeRole signed by %q (status %d), want the base key %q", step, c.AKID, c.Status, baseKey)
			}
			continue
		}
		switch {
		case c.Service == "sts" && c.Action == "GetCallerIdentity":
			n.callerIdentity++
		case c.Service == "s3":
			n.s3++
		case c.Service == "dynamodb":
			n.dynamodb++
		default:
			t.Errorf("%s: unexpected call %+v", step, c)
		}
		role, issued := rec.Issued(c.AKID)
		if !issued || role != sessionARN {
			t.Errorf("%s: %s %s signed by %q, not by a session key of %s (issued %v for %q)", step, c.Service, c.Action, c.AKID, sessionARN, issued, role)
		}
	}
	if (processes > 0 && n.assumeRole != processes) || n.assumeRole == 0 {
		t.Errorf("%s: %d AssumeRole calls, want one per prstate process (%d)", step, n.assumeRole, processes)
	}
	if n.s3+n.dynamodb == 0 {
		t.Errorf("%s: no S3 or DynamoDB request went through the recorder", step)
	}
	t.Logf("%s: %s", step, n)
	return n
}

// TestIdentityAssumeRole: with assume_role in the backend block, prstate's
// plan (seeding the PR state), lock and its post step, run, cleanup, sweep
// and doctor each sign one sts:AssumeRole with the job's own key and
// everything else (S3, DynamoDB, sts:GetCallerIdentity) with the session
// key STS gave for the role; terraform does the same with the same block
// (init, apply, the PR's init from prstate's backend file), and so does
// tofu. Doctor names the session (sts:GetCallerIdentity) and how it was
// reached; it is the session terraform's own GetCallerIdentity sees.
func TestIdentityAssumeRole(t *testing.T) {
	testenv.SkipShort(t, "needs moto, terraform and the prstate binary")
	t.Parallel()
	s := newStack(t, lockDynamoDB, true, "app")
	rec := testenv.NewSigningRecorder(t, s.moto.Endpoint)
	gh := newRunnerAPI(t)
	total := signerCounts{}
	add := func(c signerCounts) {
		total.assumeRole += c.assumeRole
		total.callerIdentity += c.callerIdentity
		total.s3 += c.s3
		total.dynamodb += c.dynamodb
	}

	// Production, applied by terraform through the same block.
	mark := len(rec.Calls())
	prod := s.identityCheckout(rec, assumeRoleBlock, "app")
	prodData := filepath.Join(t.TempDir(), "tf-prod")
	prod.mustTerraform(prodData, nil, "init")
	prod.mustTerraform(prodData, nil, "apply", "-auto-approve")
	checkAssumedSigners(t, rec, mark, 0, "terraform init + apply")
	tfCallers := rec.Callers()
	if len(tfCallers) == 0 || tfCallers[0] != sessionARN {
		t.Fatalf("terraform's GetCallerIdentity answers %v, want %s", tfCallers, sessionARN)
	}

	// plan with seed: production
	mark = len(rec.Calls())
	pr := s.identityCheckout(rec, assumeRoleBlock, "app", "a")
	planInputs := map[string]string{"working-directory": "infra", "seed": "production"}
	plan := pr.action(job{api: gh.URL}, prPayload(t, "opened", 42, false, ""), planInputs, nil)
	plan.mustSucceed(t)
	if !strings.Contains(plan.stderr, "seed") || plan.outputs["key"] != "app/pr-42/terraform.tfstate" {
		t.Errorf("plan: outputs %v\n%s", plan.outputs, plan.stderr)
	}
	add(checkAssumedSigners(t, rec, mark, 1, "prstate plan (seed production)"))
	// terraform on the PR key, from prstate's backend file alone
	mark = len(rec.Calls())
	prData := filepath.Join(t.TempDir(), "tf-pr")
	pr.mustTerraform(prData, nil, "init", "-backend-config="+plan.outputs["backend-config"])
	checkAssumedSigners(t, rec, mark, 0, "terraform init -backend-config=<prstate's file>")

	// lock (auto on a push) and its post step
	mark = len(rec.Calls())
	j := &applyJob{job: job{runID: "9101", sha: mergeA, before: commitBase, api: gh.URL}, checkout: s.identityCheckout(rec, assumeRoleBlock, "app", "a")}
	j.start(t, map[string]string{"working-directory": "infra", "lock-timeout": "1m"})
	j.finishMain(t)
	j.postStep(t)
	add(checkAssumedSigners(t, rec, mark, 2, "prstate lock + post step"))

	// run
	mark = len(rec.Calls())
	co := s.identityCheckout(rec, assumeRoleBlock, "app", "a", "b")
	co.action(job{runID: "9102", sha: mergeB, before: mergeA, api: gh.URL, args: []string{"run", "--lock-timeout", "1m", "--", "true"}}, pushPayload(t, mergeA, mergeB), nil, nil).mustSucceed(t)
	add(checkAssumedSigners(t, rec, mark, 1, "prstate run"))

	// cleanup
	mark = len(rec.Calls())
	closed := pr.action(job{api: gh.URL, sha: mergeA}, prPayload(t, "closed", 42, true, mergeA), planInputs, nil)
	closed.mustSucceed(t)
	if closed.outputs["deleted"] != "1" {
		t.Errorf("cleanup: outputs %v\n%s", closed.outputs, closed.stderr)
	}
	add(checkAssumedSigners(t, rec, mark, 1, "prstate cleanup"))

	// sweep
	mark = len(rec.Calls())
	co.action(job{api: gh.URL}, testdataEvent(t, "schedule", "schedule.json", ""), map[string]string{"working-directory": "infra"}, nil).mustSucceed(t)
	add(checkAssumedSigners(t, rec, mark, 1, "prstate sweep"))

	// doctor
	mark = len(rec.Calls())
	doc := co.action(job{api: gh.URL}, pushPayload(t, mergeA, mergeB), map[string]string{"working-directory": "infra", "command": "doctor"}, nil)
	n := checkAssumedSigners(t, rec, mark, 1, "prstate doctor")
	add(n)
	if n.callerIdentity != 1 {
		t.Errorf("doctor asked sts:GetCallerIdentity %d times, want 1", n.callerIdentity)
	}
	row := identityRow(t, doc.stdout)
	t.Logf("doctor's identity row (exit %d):\n%s", doc.code, row)
	for _, fact := range []string{"OK", sessionARN, "(account 123456789012)", "assume_role " + stateRole + " from infra/main.tf:3", "chained from the environment's credentials (AWS_ACCESS_KEY_ID)"} {
		if !strings.Contains(row, fact) {
			t.Errorf("doctor's identity row lacks %q:\n%s", fact, row)
		}
	}
	if callers := rec.Callers(); callers[len(callers)-1] != sessionARN {
		t.Errorf("doctor's GetCallerIdentity answered %s, terraform's %s", callers[len(callers)-1], tfCallers[0])
	}
	t.Logf("prstate in all (7 processes): %s", total)

	// terraform and tofu init with the same block through the same
	// recorder: each acts as the same session.
	for _, cli := range testenv.TerraformBinaries(t) {
		mark = len(rec.Calls())
		c := *co
		c.tf, c.tool = cli.Path, cli.Name
		before := len(rec.Callers())
		c.mustTerraform(filepath.Join(t.TempDir(), "tf-"+cli.Name), nil, "init")
		checkAssumedSigners(t, rec, mark, 0, cli.Name+" init")
		callers := rec.Callers()[before:]
		if len(callers) == 0 {
			t.Errorf("%s init did not ask sts:GetCallerIdentity", cli.Name)
		}
		for _, a := range callers {
			if a != sessionARN {
				t.Errorf("%s init acts as %s, prstate as %s", cli.Name, a, sessionARN)
			}
		}
	}
}

// identityRow is doctor's identity row (and its fix line) from its text.
func identityRow(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "identity" {
			row := l
			if i+1 < len(lines) && strings.Contains(lines[i+1], "fix:") {
				row += "\n" + lines[i+1]
			}
			return row
		}
	}
	t.Fatalf("no identity row in doctor's report:\n%s", out)
	return ""
}

// checkSignedBy checks that every call rec saw from the from-th on was
// signed by akid, and that there were some.
func checkSignedBy(t *testing.T, rec *testenv.SigningRecorder, from int, akid, step string) {
	t.Helper()
	calls := rec.Calls()[from:]
	if len(calls) == 0 {
		t.Errorf("%s: no request went through the recorder", step)
	}
	for _, c := range calls {
		if c.AKID != akid {
			t.Errorf("%s: %s %s signed by %q, want %q", step, c.Service, c.Action, c.AKID, akid)
		}
	}
	t.Logf("%s: %d requests, all signed by %s", step, len(calls), akid)
}

// TestIdentityProfile: profile = "ci" with shared_credentials_files in the
// block: prstate (plan, doctor) and terraform sign with the keys of that
// profile alone, not the file's default profile nor the environment's
// AWS_ACCESS_KEY_ID, which a profile in the block wins over in terraform.
func TestIdentityProfile(t *testing.T) {
	testenv.SkipShort(t, "needs moto, terraform and the prstate binary")
	t.Parallel()
	s := newStack(t, lockDynamoDB, true, "app")
	s.applyProduction(true)
	rec := testenv.NewSigningRecorder(t, s.moto.Endpoint)
	gh := newRunnerAPI(t)
	const ciKey = "AKIAPROFILECI0000001"
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = AKIADEFAULT000000001\naws_secret_access_key = d\n\n[ci]\naws_access_key_id = "+ciKey+"\naws_secret_access_key = c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	block := fmt.Sprintf("    profile = \"ci\"\n    shared_credentials_files = [%q]\n", creds)

	co := s.identityCheckout(rec, block, "app", "a")
	mark := len(rec.Calls())
	co.action(job{api: gh.URL}, prPayload(t, "opened", 7, false, ""), map[string]string{"working-directory": "infra", "seed": "production"}, nil).mustSucceed(t)
	checkSignedBy(t, rec, mark, ciKey, "prstate plan")

	mark = len(rec.Calls())
	doc := co.action(job{api: gh.URL}, pushPayload(t, mergeA, mergeB), map[string]string{"working-directory": "infra", "command": "doctor"}, nil)
	checkSignedBy(t, rec, mark, ciKey, "prstate doctor")
	row := identityRow(t, doc.stdout)
	t.Logf("doctor's identity row (exit %d):\n%s", doc.code, row)
	for _, fact := range []string{"OK", "(account 123456789012)", `reached by profile "ci" from infra/main.tf:3 (` + creds + ")"} {
		if !strings.Contains(row, fact) {
			t.Errorf("doctor's identity row lacks %q:\n%s", fact, row)
		}
	}

	for _, cli := range testenv.TerraformBinaries(t) {
		mark = len(rec.Calls())
		c := *co
		c.tf, c.tool = cli.Path, cli.Name
		c.mustTerraform(filepath.Join(t.TempDir(), "tf-"+cli.Name), nil, "init")
		checkSignedBy(t, rec, mark, ciKey, cli.Name+" init")
	}

	// A profile the files do not have: exit 2 naming it, no request.
	missing := s.identityCheckout(rec, fmt.Sprintf("    profile = \"nope\"\n    shared_credentials_files = [%q]\n", creds), "app")
	mark = len(rec.Calls())
	st := missing.action(job{api: gh.URL}, prPayload(t, "opened", 7, false, ""), map[string]string{"working-directory": "infra", "seed": "production"}, nil)
	if st.code != 2 || !strings.Contains(st.stderr, `profile "nope" (infra/main.tf:3) is in no shared credentials or config file`) {
		t.Errorf("missing profile: exit %d\n%s", st.code, st.stderr)
	}
	if n := len(rec.Calls()) - mark; n != 0 {
		t.Errorf("a missing profile sent %d requests", n)
	}
}

// TestIdentityMissingCredentials: a job without credentials (no keys, no
// role; the EC2 metadata service answers nothing, as off EC2) ends in
// under 5 s with exit 2 and one line naming the likely cause, and no line
// of the SDK's.
func TestIdentityMissingCredentials(t *testing.T) {
	testenv.SkipShort(t, "needs moto, terraform and the prstate binary")
	t.Parallel()
	s := newStack(t, lockDynamoDB, true, "app")
	// The block leaves the metadata service on, as most do.
	tf := filepath.Join(s.dir, "main.tf")
	src := readFile(t, tf)
	if !strings.Contains(src, "    skip_metadata_api_check     = true\n") {
		t.Fatalf("main.tf:\n%s", src)
	}
	if err := os.WriteFile(tf, []byte(strings.Replace(src, "    skip_metadata_api_check     = true\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var imdsHits atomic.Int64
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imdsHits.Add(1)
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(imds.Close)
	noCreds := []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_EC2_METADATA_DISABLED=", "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL}
	for _, tc := range []struct {
		name  string
		env   []string
		cause string
	}{
		{"no id-token permission or a fork", nil, "give it `permissions: id-token: write` and an aws-actions/configure-aws-credentials step"},
		{"no configure-aws-credentials step", []string{"ACTIONS_ID_TOKEN_REQUEST_URL=https://token.actions.example/x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=t"}, "no step turned it into credentials: add aws-actions/configure-aws-credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *s
			c.t = t
			c.extraEnv = append(append([]string(nil), noCreds...), tc.env...)
			start := time.Now()
			st := c.prstate(pushPayload(t, commitBase, mergeA), map[string]string{"working-directory": "infra", "lock-timeout": "10s"})
			took := time.Since(start)
			var errLines []string
			for _, l := range strings.Split(strings.TrimSpace(st.stderr), "\n") {
				if !strings.HasPrefix(l, "::") && !strings.Contains(l, "command auto:") {
					errLines = append(errLines, l)
				}
			}
			t.Logf("exit %d after %s:\n%s", st.code, took.Round(time.Millisecond), strings.Join(errLines, "\n"))
			if st.code != 2 || took >= 5*time.Second {
				t.Errorf("exit %d after %s, want 2 in under 5 s", st.code, took)
			}
			if len(errLines) != 1 || !strings.Contains(errLines[0], "no AWS credentials") || !strings.Contains(errLines[0], tc.cause) {
				t.Errorf("want one line naming %q, got:\n%s", tc.cause, st.stderr)
			}
			for _, sdk := range []string{"SDK ", "ec2imds", "IMDS", "operation error", "failed to refresh cached credentials"} {
				if strings.Contains(st.stderr, sdk) {
					t.Errorf("stderr has the SDK's %q:\n%s", sdk, st.stderr)
				}
			}
		})
	}
	if imdsHits.Load() == 0 {
		t.Error("the SDK never asked the (silent) metadata service: the bound was not exercised")
	}
}

// TestIdentityAccountLists: allowed_account_ids and forbidden_account_ids
// that exclude the identity (moto's account 123456789012) make prstate
// refuse to act, as terraform does: lock exits 2 naming the rule and
// writes nothing, doctor FAILs the identity row and writes nothing. An
// allowed list that has the account lets lock go on.
func TestIdentityAccountLists(t *testing.T) {
	testenv.SkipShort(t, "needs moto, terraform and the prstate binary")
	t.Parallel()
	s := newStack(t, lockDynamoDB, true, "app")
	s.applyProduction(true)
	rec := testenv.NewSigningRecorder(t, s.moto.Endpoint)
	gh := newRunnerAPI(t)
	for _, tc := range []struct{ block, rule string }{
		{`    allowed_account_ids = ["111111111111"]` + "\n", "is not in allowed_account_ids (infra/main.tf:3)"},
		{`    forbidden_account_ids = ["123456789012"]` + "\n", "is in forbidden_account_ids (infra/main.tf:3)"},
	} {
		co := s.identityCheckout(rec, tc.block, "app")
		keys, items := s.objectKeys(), s.itemIDs()
		lock := co.action(job{runID: "9401", sha: mergeA, before: commitBase, api: gh.URL}, pushPayload(t, commitBase, mergeA), map[string]string{"working-directory": "infra"}, nil)
		if lock.code != 2 || !strings.Contains(lock.stderr, "AWS account 123456789012 (arn:aws:sts::123456789012:user/moto) "+tc.rule+": refusing to act as it") {
			t.Errorf("lock with %s: exit %d\n%s", strings.TrimSpace(tc.block), lock.code, lock.stderr)
		}
		doc := co.action(job{api: gh.URL}, pushPayload(t, commitBase, mergeA), map[string]string{"working-directory": "infra", "command": "doctor"}, nil)
		row := identityRow(t, doc.stdout)
		t.Logf("doctor's identity row (exit %d):\n%s", doc.code, row)
		if doc.code != 2 || !strings.Contains(row, "FAIL") || !strings.Contains(row, tc.rule) {
			t.Errorf("doctor with %s: exit %d\n%s", strings.TrimSpace(tc.block), doc.code, doc.stdout)
		}
		if got := s.objectKeys(); !slices.Equal(got, keys) {
			t.Errorf("refused, yet the bucket changed: %v -> %v", keys, got)
		}
		if got := s.itemIDs(); !slices.Equal(got, items) {
			t.Errorf("refused, yet the table changed: %v -> %v", items, got)
		}
	}
	co := s.identityCheckout(rec, `    allowed_account_ids = ["123456789012"]`+"\n", "app")
	j := &applyJob{job: job{runID: "9402", sha: mergeA, before: commitBase, api: gh.URL}, checkout: co}
	j.start(t, map[string]string{"working-directory": "infra"})
	j.finishMain(t)
	j.postStep(t)
}

// TestIdentityAssumeRoleEnforced runs on a moto that enforces IAM: the
// job's user may only assume the state role, the role may use S3. With
// assume_role in the block, prstate plan seeds the PR state (the base key
// signs only AssumeRole); with the block removed it acts as the user
// itself and ends in exit 2 naming the S3 action it was denied.
func TestIdentityAssumeRoleEnforced(t *testing.T) {
	testenv.SkipShort(t, "needs moto and the prstate binary")
	t.Parallel()
	m := testenv.MotoIAM(t)
	ctx := t.Context()
	adminS3 := s3.NewFromConfig(m.Admin, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "prstate-enforced-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	if _, err := adminS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	state := `{"version":4,"terraform_version":"1.11.0","serial":3,"lineage":"7d3e6a52-8f0a-4b8e-9d55-0c1c2f1d2e3f","outputs":{},"resources":[],"check_results":null}`
	if _, err := adminS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(prodKey), Body: strings.NewReader(state)}); err != nil {
		t.Fatal(err)
	}
	user := m.User(t, "ci", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	role := m.Role(t, "tfstate", "ci", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	rec := testenv.NewSigningRecorder(t, m.Endpoint)

	s := &stack{t: t, bin: testenv.Binary(t), root: t.TempDir(), home: t.TempDir(), bucket: bucket, mode: lockS3}
	s.dir = filepath.Join(s.root, "infra")
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.extraEnv = []string{"AWS_ACCESS_KEY_ID=" + user.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + user.SecretAccessKey}
	write := func(extra string) {
		block := testenv.TerraformBackend(rec.URL, extra+fmt.Sprintf("bucket = %q", bucket), fmt.Sprintf("key = %q", prodKey), "use_lockfile = true")
		block = strings.Replace(block, fmt.Sprintf("dynamodb = %q }", rec.URL), fmt.Sprintf("dynamodb = %q, sts = %q }", rec.URL, rec.URL), 1)
		if err := os.WriteFile(filepath.Join(s.dir, "main.tf"), []byte(block), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inputs := map[string]string{"working-directory": "infra", "seed": "production"}

	write(fmt.Sprintf("assume_role = { role_arn = %q }\n    ", role))
	st := s.prstate(prEvent(t, "opened", 5), inputs)
	if st.code != 0 {
		t.Fatalf("with assume_role: exit %d\n%s", st.code, st.stderr)
	}
	var sessionKeys int
	for _, c := range rec.Calls() {
		switch {
		case c.Action == "AssumeRole":
			if c.AKID != user.AccessKeyID || c.Status != 200 {
				t.Errorf("AssumeRole %+v, want signed by the user and allowed", c)
			}
		case c.AKID == user.AccessKeyID:
			t.Errorf("%s %s signed by the user's own key", c.Service, c.Action)
		default:
			if _, ok := rec.Issued(c.AKID); !ok || c.Status == 403 {
				t.Errorf("%s %s signed by %s (status %d), not an allowed session key", c.Service, c.Action, c.AKID, c.Status)
			}
			sessionKeys++
		}
	}
	if sessionKeys == 0 {
		t.Error("no request signed by the session key")
	}
	if _, err := adminS3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("app/pr-5/terraform.tfstate")}); err != nil {
		t.Errorf("with assume_role the PR state was not seeded: %v", err)
	}

	write("")
	mark := len(rec.Calls())
	st = s.prstate(prEvent(t, "opened", 6), inputs)
	t.Logf("without assume_role: exit %d\n%s", st.code, st.stderr)
	if st.code != 2 || !strings.Contains(st.stderr, "access denied: s3:") {
		t.Errorf("without assume_role: exit %d, want 2 naming the S3 action denied\n%s", st.code, st.stderr)
	}
	for _, c := range rec.Calls()[mark:] {
		if c.AKID != user.AccessKeyID || c.Service == "sts" {
			t.Errorf("without assume_role: %s %s signed by %s", c.Service, c.Action, c.AKID)
		}
	}
}
