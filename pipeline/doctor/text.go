package doctor

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/prstate/prstate/pipeline/escape"
)

// WriteText prints the report for people: per stack, the resolved backend
// settings and where each came from, then one row per check with its fix.
// Strings from the server are printed on one line each.
func WriteText(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, st := range r.Stacks {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "stack %s: s3://%s/%s\n", flat(st.Stack), flat(st.Bucket), flat(st.Key))
		if len(st.Settings) > 0 {
			fmt.Fprintln(tw, "  backend configuration:")
			for _, s := range st.Settings {
				fmt.Fprintf(tw, "    %s\t%s\tfrom %s\n", flat(s.Name), flat(s.Value), flat(s.Source))
			}
			fmt.Fprintln(tw)
		}
		for _, row := range st.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", row.Status, flat(row.Check), flat(row.Detail))
			if row.Fix != "" {
				fmt.Fprintf(tw, "  \t\tfix: %s\n", flat(row.Fix))
			}
		}
	}
	if len(r.Repository) > 0 {
		fmt.Fprintln(tw, "\nrepository (GitHub):")
		for _, row := range r.Repository {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", row.Status, flat(row.Check), flat(row.Detail))
			if row.Fix != "" {
				fmt.Fprintf(tw, "  \t\tfix: %s\n", flat(row.Fix))
			}
		}
	}
	fmt.Fprintf(tw, "\ndoctor: %d OK, %d WARN, %d FAIL\n", r.Count(OK), r.Count(Warn), r.Count(Fail))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("failed to print the report: %w", err)
	}
	return nil
}

// flat keeps s on one line: control and bidi characters escaped.
func flat(s string) string { return escape.Log(s) }
