package iam_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// attack is one S3 request a PR job must not get through.
type attack struct {
	name   string
	action string // the IAM action it needs
	key    string
	do     func(ctx context.Context, c *s3.Client, s *motoStack) error
}

type attackFunc = func(context.Context, *s3.Client, *motoStack) error

func put(key string, conditional string) attackFunc {
	return func(ctx context.Context, c *s3.Client, s *motoStack) error {
		in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), Body: strings.NewReader("attack")}
		if conditional == "*" {
			in.IfNoneMatch = aws.String("*")
		}
		_, err := c.PutObject(ctx, in)
		return err
	}
}

// latestVersion is the ID of key's current version, as the admin sees it
// (an attacker learns it from any listing). The whole bucket is listed:
// moto refuses the signature of a prefix with "/" in it.
func latestVersion(ctx context.Context, s *motoStack, key string) (*string, error) {
	out, err := s.adminC.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		return nil, err
	}
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key && aws.ToBool(v.IsLatest) {
			return v.VersionId, nil
		}
	}
	return nil, fmt.Errorf("no version of %s", key)
}

func del(key string, version bool) attackFunc {
	return func(ctx context.Context, c *s3.Client, s *motoStack) error {
		in := &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
		if version {
			v, err := latestVersion(ctx, s, key)
			if err != nil {
				return err
			}
			in.VersionId = v
		}
		_, err := c.DeleteObject(ctx, in)
		return err
	}
}

// deleteBatch deletes key's current version with DeleteObjects, as
// cleanup deletes versions; per-key errors come back in the answer.
func deleteBatch(key string) attackFunc {
	return func(ctx context.Context, c *s3.Client, s *motoStack) error {
		v, err := latestVersion(ctx, s, key)
		if err != nil {
			return err
		}
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(s.bucket),
			Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String(key), VersionId: v}}, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		for _, e := range out.Errors {
			return &smithy.GenericAPIError{Code: aws.ToString(e.Code), Message: aws.ToString(e.Message)}
		}
		return nil
	}
}

func get(key string) attackFunc {
	return func(ctx context.Context, c *s3.Client, s *motoStack) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
}

// productionAttacks are the writes (and reads) on production's names.
func productionAttacks() []attack {
	prod := motoProdKey
	lockfile := prod + statekey.TerraformLockSuffix
	apply, ledger := statekey.ApplyLockKey(prod), statekey.LedgerObjectKey(prod)
	waiters := statekey.WaitersObjectKey(prod)
	backup := prod + statekey.BackupInfix + "20261201T090000.000000000Z"
	return []attack{
		{"overwrite production state", "s3:PutObject", prod, put(prod, "")},
		{"delete production state (delete marker)", "s3:DeleteObject", prod, del(prod, false)},
		{"delete a production state version", "s3:DeleteObjectVersion", prod, del(prod, true)},
		{"delete a production state version in a batch (DeleteObjects)", "s3:DeleteObjectVersion", prod, deleteBatch(prod)},
		{"take production's .tflock (If-None-Match)", "s3:PutObject", lockfile, put(lockfile, "*")},
		{"overwrite production's .tflock", "s3:PutObject", lockfile, put(lockfile, "")},
		{"delete production's .tflock", "s3:DeleteObject", lockfile, del(lockfile, false)},
		{"write the ledger", "s3:PutObject", ledger, put(ledger, "")},
		{"announce a forged waiter (If-None-Match)", "s3:PutObject", waiters, put(waiters, "*")},
		{"overwrite the waiters record", "s3:PutObject", waiters, put(waiters, "")},
		{"create the S3 apply lock (If-None-Match)", "s3:PutObject", apply, put(apply, "*")},
		{"overwrite the S3 apply lock", "s3:PutObject", apply, put(apply, "")},
		{"delete the S3 apply lock", "s3:DeleteObject", apply, del(apply, false)},
		{"write a force-unlock backup", "s3:PutObject", backup, put(backup, "")},
		{"read the ledger", "s3:GetObject", ledger, get(ledger)},
		{"read the apply lock", "s3:GetObject", apply, get(apply)},
		{"read production state", "s3:GetObject", prod, get(prod)},
	}
}

func accessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied"
}

// TestIamMotoPRPoliciesRefuseAttacks: under the generated policies of the
// roles PR jobs use (plan, cleanup, and the gated seed role, which a PR job
// assumes only in its protected environment) moto refuses every write to
// production's names with AccessDenied; production's state is readable by
// the gated seed role alone: the roles a pull_request job can assume
// (plan, cleanup) get AccessDenied on it. moto's verdict agrees with the
// pure-Go evaluator's for every request.
func TestIamMotoPRPoliciesRefuseAttacks(t *testing.T) {
	s := newMotoStack(t)
	prod := motoProdKey
	s.putAdmin(prod, prodState)
	s.putAdmin(prod+statekey.TerraformLockSuffix, `{"ID":"production-lock"}`)
	s.putAdmin(statekey.ApplyLockKey(prod), `{"ID":"apply-lock"}`)
	s.putAdmin(statekey.LedgerObjectKey(prod), `{"sha":"`+motoSHA+`"}`)
	s.putAdmin(statekey.WaitersObjectKey(prod), `{"waiters":[]}`)
	before := map[string]string{}
	for _, a := range productionAttacks() {
		before[a.key] = s.body(a.key)
	}
	type policyCase struct {
		name      string
		role      iam.Role
		readsProd bool
	}
	cases := []policyCase{
		{"plan", s.role(iam.JobPlan, false), false},
		{"plan --seed production --environment pr-seed (gated seed role)", s.role(iam.JobPlan, true), true},
		{"cleanup", s.role(iam.JobCleanup, false), false},
	}
	var table []string
	for i, c := range cases {
		k := s.user(fmt.Sprintf("pr-job-%d", i), c.role.Policy)
		client := s.m.S3(k)
		for _, a := range productionAttacks() {
			// Conditional creates of existing objects would fail anyway:
			// the attacker goes for them while they are absent.
			if strings.Contains(a.name, "If-None-Match") {
				saved := s.body(a.key)
				if _, err := s.adminC.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(a.key)}); err != nil {
					t.Fatal(err)
				}
				err := a.do(t.Context(), client, s)
				s.putAdmin(a.key, saved)
				judge(t, c.name, a, err, false, s, &table)
				continue
			}
			wantAllowed := a.name == "read production state" && c.readsProd
			judge(t, c.name, a, a.do(t.Context(), client, s), wantAllowed, s, &table)
			if !evaluatorAgrees(c.role.Policy, s.bucket, a, wantAllowed) {
				t.Errorf("%s / %s: the evaluator disagrees with moto", c.name, a.name)
			}
		}
	}
	for _, a := range productionAttacks() {
		if got := s.body(a.key); got != before[a.key] {
			t.Errorf("%s changed under the PR policies: %q, was %q", a.key, got, before[a.key])
		}
	}
	t.Logf("measured under moto (IAM enforced):\n%s", strings.Join(table, "\n"))
}

func judge(t *testing.T, policy string, a attack, err error, wantAllowed bool, s *motoStack, table *[]string) {
	t.Helper()
	result := "allowed"
	switch {
	case err == nil:
	case accessDenied(err):
		result = "AccessDenied"
	default:
		result = "error: " + err.Error()
	}
	*table = append(*table, fmt.Sprintf("| %s | %s | %s |", a.name, policy, result))
	if wantAllowed && err != nil {
		t.Errorf("%s: %s refused: %v", policy, a.name, err)
	}
	if !wantAllowed && !accessDenied(err) {
		t.Errorf("%s: %s: %v, want AccessDenied", policy, a.name, err)
	}
}

func evaluatorAgrees(p iam.Policy, bucket string, a attack, motoAllowed bool) bool {
	return allowed(p, request{action: a.action, resource: "arn:aws:s3:::" + bucket + "/" + a.key}) == motoAllowed
}
