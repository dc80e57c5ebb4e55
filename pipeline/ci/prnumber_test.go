package ci

import "testing"

func TestParsePR(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-3", "abc", "", "1.5"} {
		if _, err := ParsePR(s); err == nil {
			t.Errorf("ParsePR(%q) accepted", s)
		}
	}
	for _, pr := range []int{0, -1, MaxPR + 1} {
		if err := ValidatePR(pr); err == nil {
			t.Errorf("ValidatePR(%d) accepted", pr)
		}
	}
	if pr, err := ParsePR(" 42 "); err != nil || pr != 42 {
		t.Errorf("ParsePR(\" 42 \") = %d, %v", pr, err)
	}
}
