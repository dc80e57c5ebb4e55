package testenv

import (
	"testing"
	"time"
)

// ciLockError is what tofu 1.10.6 printed in CI when its lock request was
// retried after the server had applied the first attempt.
const ciLockError = `Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error
StatusCode: 400, RequestID:
zASusIczh8744VkDyv7jVxonWasiQzTT47RLWvmLDiHnUIKgYRWV,
ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        5ae721b8-8e40-dddb-9934-83dd66987bee
  Path:      prstate-test-5-402e3bc7/app/pr-62/terraform.tfstate
  Operation: OperationTypeApply
  Who:       root@vm
  Version:   1.10.6
  Created:   2026-12-04 12:32:14.252619934 +0000 UTC
  Info:      
`

func TestOwnOrphanLock(t *testing.T) {
	created := time.Date(2026, 12, 4, 12, 32, 14, 252619934, time.UTC)
	for _, tc := range []struct {
		name  string
		sub   string
		start time.Time
		want  bool
	}{
		{"created during the command", "apply", created.Add(-time.Second), true},
		{"held before the command started", "apply", created.Add(time.Millisecond), false},
		{"another operation's lock", "plan", created.Add(-time.Second), false},
	} {
		id, ok := OwnOrphanLock(ciLockError, tc.sub, tc.start)
		if ok != tc.want || (ok && id != "5ae721b8-8e40-dddb-9934-83dd66987bee") {
			t.Errorf("%s: OwnOrphanLock = %q, %v; want %v", tc.name, id, ok, tc.want)
		}
	}
	if _, ok := OwnOrphanLock("Error: Invalid resource type", "apply", created.Add(-time.Second)); ok {
		t.Error("an error that is not a lock conflict was taken as an orphan lock")
	}
}
