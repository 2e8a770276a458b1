package lang

import (
	"cmp"
	"fmt"
	"slices"
)

// HasErrors reports whether any diagnostic is an error (warnings do not count).
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns the diagnostics as an error, or nil when none is an error.
func (d Diagnostics) Err() error {
	if !d.HasErrors() {
		return nil
	}
	return d
}

// Error is the first diagnostic on one line, "file:line:col: message",
// followed by " (and N more)" when there are others.
func (d Diagnostics) Error() string {
	if len(d) == 0 {
		return "no diagnostics"
	}
	s := d[0].Error()
	if len(d) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(d)-1)
	}
	return s
}

// Error renders one diagnostic on one line, "file:line:col: message".
func (d *Diagnostic) Error() string {
	if loc := location(d.Range); loc != "" {
		return loc + ": " + d.Message
	}
	return d.Message
}

// location is "file:line:col", "file", "line:col" or "" depending on what
// the range knows.
func location(r Range) string {
	switch {
	case r.Start.Line > 0 && r.File != "":
		return fmt.Sprintf("%s:%d:%d", r.File, r.Start.Line, r.Start.Col)
	case r.Start.Line > 0:
		return fmt.Sprintf("%d:%d", r.Start.Line, r.Start.Col)
	}
	return r.File
}

// Sort orders the diagnostics by file, start offset and message, and drops
// exact duplicates (same severity, range, message and help), which a
// checker visiting shared nodes twice can produce.
func (d *Diagnostics) Sort() {
	slices.SortStableFunc(*d, func(a, b *Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Range.File, b.Range.File),
			cmp.Compare(a.Range.Start.Offset, b.Range.Start.Offset),
			cmp.Compare(a.Message, b.Message),
		)
	})
	*d = slices.CompactFunc(*d, func(a, b *Diagnostic) bool {
		return a.Severity == b.Severity && a.Range == b.Range && a.Message == b.Message && a.Help == b.Help
	})
}
