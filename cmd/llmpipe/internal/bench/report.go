package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// PrintTables writes one table per result: figure, value, the excellent and
// acceptable targets, and the verdict.
func PrintTables(w io.Writer, results []*Result) {
	for _, r := range results {
		fmt.Fprintf(w, "\n%s — %s (%.0f s)\n", r.ID, r.Title, r.Seconds)
		if r.Setup != "" {
			fmt.Fprintf(w, "  %s\n", r.Setup)
		}
		if r.Err != "" {
			fmt.Fprintf(w, "  ERROR: %s\n", r.Err)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  figure\tvalue\texcellent\tacceptable\tverdict")
		for _, f := range r.Figures {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Name, formatValue(f.Value, f.Unit), f.ExcellentText, f.AcceptableText, f.Verdict)
		}
		tw.Flush()
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
}

// Markdown writes the results as the tables of docs/benchmarks.md.
func Markdown(w io.Writer, results []*Result) {
	for _, r := range results {
		fmt.Fprintf(w, "\n### %s — %s\n\n", r.ID, r.Title)
		if r.Setup != "" {
			fmt.Fprintf(w, "%s. (%.0f s)\n\n", strings.TrimSuffix(r.Setup, "."), r.Seconds)
		}
		if r.Err != "" {
			fmt.Fprintf(w, "**Error:** %s\n\n", r.Err)
		}
		fmt.Fprintln(w, "| figure | value | excellent | acceptable | verdict |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, f := range r.Figures {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", f.Name, formatValue(f.Value, f.Unit), f.ExcellentText, f.AcceptableText, f.Verdict)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\nNote: %s\n", n)
		}
	}
}

// Report is the JSON form of a bench run.
type Report struct {
	Seed    int64     `json:"seed"`
	Window  string    `json:"window"`
	Scale   float64   `json:"scale"`
	Results []*Result `json:"results"`
}

// WriteJSON writes the report to path.
func WriteJSON(path string, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	// NaN cannot be encoded: figures that could not be measured are n/a.
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
