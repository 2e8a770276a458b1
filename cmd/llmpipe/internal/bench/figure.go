package bench

import (
	"encoding/json"
	"fmt"
	"math"
)

// Target is one bound on a figure: Value with At least or at most.
type Target struct {
	Set     bool
	AtLeast bool // else at most
	Value   float64
}

// AtLeast and AtMost build targets.
func AtLeast(v float64) Target { return Target{Set: true, AtLeast: true, Value: v} }
func AtMost(v float64) Target  { return Target{Set: true, Value: v} }

func (t Target) met(v float64) bool {
	if !t.Set {
		return true
	}
	if math.IsNaN(v) {
		return false
	}
	if t.AtLeast {
		return v >= t.Value
	}
	return v <= t.Value
}

func (t Target) String(unit string) string {
	if !t.Set {
		return "—"
	}
	op := "≤"
	if t.AtLeast {
		op = "≥"
	}
	return op + " " + formatValue(t.Value, unit)
}

// Figure is one measured value and what it is judged against.
type Figure struct {
	Name       string  `json:"name"`
	Value      float64 `json:"value"`
	Unit       string  `json:"unit,omitempty"`
	Excellent  Target  `json:"-"`
	Acceptable Target  `json:"-"`
	// ExcellentText and AcceptableText are the targets as printed.
	ExcellentText  string `json:"excellent,omitempty"`
	AcceptableText string `json:"acceptable,omitempty"`
	Verdict        string `json:"verdict"`
}

// Verdicts.
const (
	VerdictExcellent  = "excellent"
	VerdictAcceptable = "acceptable"
	VerdictMissed     = "MISSED"
	VerdictInfo       = "info" // no target: reported for context
)

// judge fills the verdict and the printed targets.
func (f *Figure) judge() {
	f.ExcellentText = f.Excellent.String(f.Unit)
	f.AcceptableText = f.Acceptable.String(f.Unit)
	switch {
	case !f.Excellent.Set && !f.Acceptable.Set:
		f.Verdict = VerdictInfo
	case f.Excellent.Set && f.Excellent.met(f.Value) && f.Acceptable.met(f.Value):
		f.Verdict = VerdictExcellent
	case f.Acceptable.Set && f.Acceptable.met(f.Value):
		f.Verdict = VerdictAcceptable
	case !f.Acceptable.Set && !f.Excellent.met(f.Value):
		// Only an excellent bound exists (a hard rule such as "never
		// above the configured limit"): missing it is a miss.
		f.Verdict = VerdictMissed
	default:
		f.Verdict = VerdictMissed
	}
}

// FormatValue prints v in unit the way the tables do.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch unit {
	case "%":
		if v != 0 && math.Abs(v) < 1 {
			return fmt.Sprintf("%.2f %%", v)
		}
		return fmt.Sprintf("%.1f %%", v)
	case "ms", "µs":
		return fmt.Sprintf("%.2f %s", v, unit)
	case "":
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprintf("%.0f", v)
		}
		return fmt.Sprintf("%.2f", v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

// Result is one scenario's outcome.
type Result struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Setup   string   `json:"setup"`
	Seconds float64  `json:"seconds"`
	Figures []Figure `json:"figures"`
	Notes   []string `json:"notes,omitempty"`
	Err     string   `json:"error,omitempty"`
}

func (r *Result) add(f Figure) {
	f.judge()
	r.Figures = append(r.Figures, f)
}

func (r *Result) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// MarshalJSON writes a figure that could not be measured (NaN) with a null
// value, which JSON can hold and NaN it cannot.
func (f Figure) MarshalJSON() ([]byte, error) {
	type plain Figure
	v := &f.Value
	if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
		v = nil
	}
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value"`
	}{plain(f), v})
}
