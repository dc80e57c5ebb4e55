package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/githubfake"
	"github.com/prstate/prstate/pipeline/storage/memstore"
)

// TestDoctorRepositoryChecks: with a token, doctor asks GitHub (the fake,
// GitHub-shaped payloads) whether the OIDC subject names the ref and the
// role's environment exists and is protected, and FAILs (exit 2) when not:
// a pull request job could then name the environment and assume the role.
func TestDoctorRepositoryChecks(t *testing.T) {
	t.Parallel()
	full := []string{"repo", "context", "ref"}
	for _, c := range []struct {
		name    string
		keys    []string
		env     *githubfake.Environment
		args    []string
		want    map[string]string // check -> status
		code    int
		details []string
	}{
		{"default subject, no environment", nil, nil, []string{"--job", "apply", "--environment", "production"},
			map[string]string{"OIDC subject includes the ref": "FAIL", "environment production protected": "FAIL"}, 2,
			[]string{"GitHub's default OIDC subject", "does not exist: the first workflow that names it creates it unprotected", "include_claim_keys[]=ref"}},
		{"subject without the ref", []string{"repo", "context"}, &githubfake.Environment{Name: "production", BranchRule: &githubfake.BranchRule{Branches: []string{"main"}}}, []string{"--job", "apply", "--environment", "production"},
			map[string]string{"OIDC subject includes the ref": "FAIL", "environment production protected": "OK"}, 2, []string{"include_claim_keys is [repo context]"}},
		{"environment without a branch rule", full, &githubfake.Environment{Name: "production"}, []string{"--job", "apply", "--environment", "production"},
			map[string]string{"OIDC subject includes the ref": "OK", "environment production protected": "FAIL"}, 2, []string{"no deployment-branch rule", "deployment-branch-policies -f name=main"}},
		{"environment for main only", full, &githubfake.Environment{Name: "production", BranchRule: &githubfake.BranchRule{Branches: []string{"main"}}}, []string{"--job", "apply", "--environment", "production"},
			map[string]string{"OIDC subject includes the ref": "OK", "environment production protected": "OK"}, 0, nil},
		{"protected branches only", full, &githubfake.Environment{Name: "ops", BranchRule: &githubfake.BranchRule{ProtectedBranches: true}}, []string{"--job", "ops", "--environment", "ops"},
			map[string]string{"environment ops protected": "OK"}, 0, nil},
		{"other branches too", full, &githubfake.Environment{Name: "production", BranchRule: &githubfake.BranchRule{Branches: []string{"main", "feature/*"}}}, []string{"--job", "apply", "--environment", "production"},
			map[string]string{"environment production protected": "WARN"}, 0, []string{"[feature/*] may run in it"}},
		{"seed environment without reviewers", full, &githubfake.Environment{Name: "pr-seed", BranchRule: &githubfake.BranchRule{ProtectedBranches: true}}, []string{"--job", "plan", "--seed", "production", "--environment", "pr-seed"},
			map[string]string{"environment pr-seed protected": "FAIL"}, 2, []string{"without anyone's approval", "reviewers[][type]=Team"}},
		{"seed environment with reviewers", full, &githubfake.Environment{Name: "pr-seed", Reviewers: []int64{42}}, []string{"--job", "plan", "--seed", "production", "--environment", "pr-seed"},
			map[string]string{"environment pr-seed protected": "OK"}, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t, "acme/infra")
			gh.Token = "ghs_doctor"
			gh.SetSubjectCustomization(c.keys...)
			if c.env != nil {
				gh.SetEnvironment(*c.env)
			}
			a := newTestApp(t, Store{Bucket: memstore.NewBucket("acme-state"), Table: memstore.NewTable("locks")})
			a.actions("push", "push.json")
			a.env["GITHUB_API_URL"], a.env["INPUT_GITHUB-TOKEN"] = gh.URL, gh.Token
			code := a.run(args("doctor", append([]string{"--dynamodb-table", "locks", "--json"}, c.args...)...)...)
			var rep struct {
				Repository []struct{ Check, Status, Detail, Fix string } `json:"repository"`
			}
			if err := json.Unmarshal(a.stdout.Bytes(), &rep); err != nil {
				t.Fatalf("exit %d: %v: %s%s", code, err, a.stdout.String(), a.stderr.String())
			}
			got := map[string]string{}
			var text []string
			for _, r := range rep.Repository {
				got[r.Check] = r.Status
				text = append(text, r.Detail, r.Fix)
			}
			for check, status := range c.want {
				if got[check] != status {
					t.Errorf("%s: %q, want %s (rows %+v)", check, got[check], status, rep.Repository)
				}
			}
			for _, d := range c.details {
				if !strings.Contains(strings.Join(text, "\n"), d) {
					t.Errorf("rows lack %q: %+v", d, rep.Repository)
				}
			}
			// The stack checks pass on memstore: the exit code is the repository's verdict.
			if code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, a.stderr.String())
			}
			if gh.Requests(githubfake.RouteOIDCCustomization) != 1 {
				t.Errorf("customization asked %d times", gh.Requests(githubfake.RouteOIDCCustomization))
			}
		})
	}
}
