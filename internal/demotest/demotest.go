// Package demotest checks the output of `prstate demo`: the in-process
// test of package demo and the binary's end-to-end test (in memory and
// against moto) expect the same story.
package demotest

import (
	"regexp"
	"strings"
	"testing"
)

// story is what every demo run prints: both PRs plan on their own keys, B
// and C apply in turn, A is superseded, cleanup removes each seeded PR
// state and its seed record (one version each).
var story = []*regexp.Regexp{
	regexp.MustCompile(`pr-101 plan +plans on app/pr-101/terraform.tfstate`),
	regexp.MustCompile(`pr-102 plan +plans on app/pr-102/terraform.tfstate`),
	regexp.MustCompile(`apply B +applied: production serial 6`),
	regexp.MustCompile(`apply C +applied: production serial 7`),
	regexp.MustCompile(`apply A +superseded by a newer applied commit: skipped, lock released`),
	regexp.MustCompile(`pr-101 cleanup +removed the PR state: 2 object versions`),
	regexp.MustCompile(`pr-102 cleanup +removed the PR state: 2 object versions`),
}

// leftOver is what the demo leaves in the backend: production's state and
// digest, the ledger, and the (empty) waiters record the applies coalesced
// on; nothing of a PR.
const leftOver = "dynamodb prstate-demo/app/terraform.tfstate-md5, dynamodb prstate-demo/app/terraform.tfstate.prstate-ledger, dynamodb prstate-demo/app/terraform.tfstate.prstate-waiters, s3://prstate-demo/app/terraform.tfstate"

// Check fails t unless text tells the demo's whole story.
func Check(t testing.TB, text string) {
	t.Helper()
	for _, want := range story {
		if !want.MatchString(text) {
			t.Errorf("demo output lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, "apply A          applied") {
		t.Errorf("the superseded commit applied:\n%s", text)
	}
	left := text[strings.LastIndex(text, "left in the backend: ")+len("left in the backend: "):]
	if strings.TrimSpace(left) != leftOver {
		t.Errorf("left in the backend: %q", left)
	}
}
