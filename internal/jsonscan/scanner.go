// Package jsonscan is the one hand-written JSON scanner behind llmpipe's
// per-item paths: jsonl source lines, model replies and the simulator's
// request bodies. encoding/json costs several microseconds and a dozen
// allocations per small document (a validity pass, reflection, a Decoder);
// on a path taken once per item that caps throughput, so these callers scan
// the text once and slice strings without escapes out of it.
//
// encoding/json stays the reference and the fallback: a Scanner reports only
// where and why it stopped, and callers that need encoding/json's exact
// treatment of odd input (invalid UTF-8, surrogate escapes) either ask for it
// (ReplaceInvalid) or give up and run encoding/json.
//
// AppendString is the writing half, shared by the record sinks and the
// simulator's replies.
package jsonscan

// DefaultMaxDepth is encoding/json's nesting limit, used when MaxDepth is 0.
const DefaultMaxDepth = 10000

// TooDeep is the failure context when Value or Skip meets more than MaxDepth
// nested objects and arrays.
const TooDeep = "nested too deeply"

// Scanner reads JSON from one string. Strings without escapes are returned as
// slices of that string, so a caller holding bytes that will be reused must
// copy them into a string once (New(string(b))).
//
// Every method skips white space before its token. A method that returns
// false leaves the scanner failed; Failure says where and why.
type Scanner struct {
	s     string
	i     int
	depth int

	// MaxDepth bounds the nesting that Value and Skip accept (0 means
	// DefaultMaxDepth), so a text of a million brackets cannot exhaust the
	// stack.
	MaxDepth int
	// ReplaceInvalid makes strings follow encoding/json: invalid UTF-8 and
	// lone surrogate escapes become U+FFFD. Without it such a string, and any
	// surrogate escape at all, fails, for callers that fall back to
	// encoding/json on anything unusual.
	ReplaceInvalid bool
	// Numbers converts the text of each number Value meets; nil keeps it as
	// a json.Number.
	Numbers func(text string) any
	// Strings boxes each string Value meets (a caller boxing many without
	// an allocation each); nil boxes it plainly.
	Strings func(s string) any

	failAt  int
	failWhy string
}

// New returns a Scanner at the start of text.
func New(text string) Scanner {
	return Scanner{s: text}
}

// Pos is the byte offset of the next unread byte.
func (s *Scanner) Pos() int { return s.i }

// Failure reports the offset of the byte the scan stopped at (the text's
// length at its end) and why, in encoding/json's words ("looking for a value",
// "in string literal", TooDeep, ...). why is empty while nothing has failed.
func (s *Scanner) Failure() (offset int, why string) { return s.failAt, s.failWhy }

// fail records the first failure and returns false for the caller to pass on.
func (s *Scanner) fail(at int, why string) bool {
	if s.failWhy == "" {
		s.failAt, s.failWhy = at, why
	}
	return false
}

// SkipSpace passes over JSON white space.
func (s *Scanner) SkipSpace() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek returns the next byte after white space without consuming it, or 0
// at the end of the text.
func (s *Scanner) Peek() byte {
	s.SkipSpace()
	if s.i < len(s.s) {
		return s.s[s.i]
	}
	return 0
}

// End reports whether only white space is left.
func (s *Scanner) End() bool {
	s.SkipSpace()
	return s.i == len(s.s)
}
