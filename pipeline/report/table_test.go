package report

import "testing"

// A cell with | or a newline stays in its cell; every row has the header's
// columns.
func TestTableKeepsCellsInside(t *testing.T) {
	t.Parallel()
	got := Table([]string{"kind", "why"}, [][]string{{"apply", "a|b\nc"}, {Code("k`ey"), Code("")}})
	want := "| kind | why |\n|---|---|\n| apply | a\\|b c |\n| ``k`ey`` | - |\n"
	if got != want {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
}
