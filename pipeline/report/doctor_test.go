package report

import (
	"strings"
	"testing"
)

// TestDoctorSummaryEscapes: names and messages from S3 cannot break out
// of their cell, open HTML, links or mentions.
func TestDoctorSummaryEscapes(t *testing.T) {
	t.Parallel()
	got := RenderDoctorSummary(
		[]DoctorRow{{Stack: "app", Status: "FAIL", Check: "s3:PutObject", Detail: "access denied: s3:PutObject on s3://b/a|b<img src=x>[x](http://e) @team\nnext", Fix: "allow `it`"}},
		[]DoctorSetting{{Stack: "app", Name: "bucket", Value: "b`|c", Source: "backend \"s3\" block in app"}},
		"0 OK, 0 WARN, 1 FAIL")
	for _, bad := range []string{" <img", "[x](http", "@team", "a|b", "\nnext", "`it`", "b`|c"} {
		if strings.Contains(got, bad) {
			t.Errorf("summary keeps %q:\n%s", bad, got)
		}
	}
	for _, want := range []string{"### prstate doctor", "| `app` | ❌ FAIL | s3\\:PutObject |", "\\<img", "| `bucket` | ``b`\\|c`` |"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
