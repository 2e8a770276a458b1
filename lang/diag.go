package lang

// Severity says how bad a diagnostic is.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

// Note points at a related place, e.g. the first definition of a duplicate.
type Note struct {
	Range   Range
	Message string
}

// Diagnostic is a problem in the user's program, with the range it is about.
// Message is lower-case without a trailing period; Help says how to fix it.
type Diagnostic struct {
	Severity Severity
	Range    Range
	Message  string
	Help     string
	Notes    []Note
}

// Diagnostics is a list of problems; the lang helper adds HasErrors, Err,
// Error, Sort and the printer.
type Diagnostics []*Diagnostic
