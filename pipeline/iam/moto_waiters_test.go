package iam_test

import (
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
	"github.com/prstate/prstate/pipeline/applylock"
	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/statekey"
)

// TestIamMotoApplyWaiters: under the apply role, a `prstate lock` that
// finds the lock held announces itself in the waiters record (the role
// allows it: no "coalescing: ... access denied" line) and leaves it when
// it gives up; a plan role's lock never gets that far.
func TestIamMotoApplyWaiters(t *testing.T) {
	s := newMotoStack(t)
	bin := testenv.Binary(t)
	held := applylock.Record{
		LockInfo: applylock.LockInfo{ID: "held-by-another-run", Operation: "prstate-apply", Version: "prstate"},
		Holder:   applylock.Holder{RVN: "1", Lease: "1h"},
	}
	s.putAdmin(statekey.ApplyLockKey(s.prod), string(held.Marshal()))
	waiters := statekey.WaitersObjectKey(s.prod)

	apply := s.user("apply-job", s.role(iam.JobApply, false).Policy)
	code, out := s.run(s.env(apply, "push", "push.json", "refs/heads/main"), bin, "lock", "--lock-timeout", "3s", "--lock-poll", "100ms")
	if code != 3 {
		t.Fatalf("lock behind a live holder: exit %d, want 3:\n%s", code, out)
	}
	if strings.Contains(out, "coalescing:") {
		t.Fatalf("the apply role could not announce its wait:\n%s", out)
	}
	if got := s.body(waiters); got != `{"waiters":[]}` {
		t.Fatalf("waiters record %q, want the apply role's announcement removed again", got)
	}
}
