package iam

import "testing"

func TestIamGlobIntersects(t *testing.T) {
	for _, c := range []struct {
		a, b glob
		want bool
	}{
		{glob{"app/pr-", "/terraform.tfstate"}, literal("app/terraform.tfstate"), false},
		{glob{"app/pr-", "/terraform.tfstate"}, literal("app/pr-7/terraform.tfstate"), true},
		{glob{"app/pr-", "/terraform.tfstate"}, literal("app/pr-x/terraform.tfstate"), true},
		{glob{"app/terraform.tfstate", ""}, literal("app/terraform.tfstate.tflock"), true},
		{glob{"app/terraform.tfstate.pr", ""}, glob{"app/terraform.tfstate.prstate-backup/", ""}, true},
		{glob{"app/pr-", "/terraform.tfstate"}, glob{"app/terraform.tfstate.prstate-backup/", ""}, false},
		{glob{"a", "b"}, glob{"", "c"}, false},
		{glob{"a", "c"}, glob{"", "c"}, true},
		{glob{"", ""}, literal(""), true},
		{literal("x"), literal("x"), true},
		{literal("x"), literal("y"), false},
	} {
		if got := intersects(c.a, c.b); got != c.want {
			t.Errorf("intersects(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := intersects(c.b, c.a); got != c.want {
			t.Errorf("intersects(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func TestIamGlobString(t *testing.T) {
	if got := (glob{"a*b?$c/pr-", "/x"}).String(); got != "a${*}b${?}${$}c/pr-*/x" {
		t.Fatalf("got %s", got)
	}
}
