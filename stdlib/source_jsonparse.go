package stdlib

// jsonl lines are parsed with internal/jsonscan: encoding/json spends ~5µs on
// a short line here (reflection, a scan pass, a Decoder per line), which caps
// a jsonl source near 200k lines/s; the scanner builds map[string]any
// directly and slices every string that needs no unescaping out of one copy
// of the line.
//
// It accepts exactly RFC 8259 JSON, like encoding/json: invalid UTF-8 and
// lone surrogates become U+FFFD, a repeated key keeps its last value.
// Numbers are normalised as normalize does. A differential fuzz test holds it
// to encoding/json's results.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/internal/jsonscan"
)

// maxDepth bounds nesting, so a line of a million brackets cannot exhaust
// the stack (encoding/json has the same limit).
const maxDepth = 10000

// jsonSyntaxError is a parse failure at a 1-based column (byte offset + 1).
type jsonSyntaxError struct {
	Msg    string
	Column int
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("%s at column %d", e.Msg, e.Column)
}

// parseJSON parses b as one JSON value surrounded only by white space.
func parseJSON(b []byte) (any, error) {
	return parseJSONText(string(b), nil) // copied once; strings are sliced from it
}

// parseJSONText is parseJSON for text already in a string: the values'
// strings are sliced from it, and boxed by strs when it is not nil (a
// box.Strings' String, made into a func value once by the caller: each
// method value costs an allocation).
func parseJSONText(text string, strs func(string) any) (any, error) {
	sc := jsonscan.New(text)
	sc.Strings = strs
	sc.MaxDepth = maxDepth
	sc.ReplaceInvalid = true
	sc.Numbers = lineNumber
	v, ok := sc.Value()
	if !ok {
		return nil, syntaxError(text, &sc)
	}
	if !sc.End() {
		return nil, &jsonSyntaxError{Msg: "unexpected data after the value", Column: sc.Pos() + 1}
	}
	return v, nil
}

// lineNumber normalises a number as normalize does, the common small
// integer without strconv.
func lineNumber(text string) any {
	if n, ok := jsonscan.SmallInt(text); ok {
		return n
	}
	return normalizeNumber(json.Number(text))
}

// syntaxError words the scanner's failure as encoding/json would, but for
// a line.
func syntaxError(text string, sc *jsonscan.Scanner) error {
	at, why := sc.Failure()
	msg := "unexpected end of line " + why
	switch {
	case why == jsonscan.TooDeep:
		msg = why
	case at < len(text):
		msg = "invalid character " + quoteByte(text[at]) + " " + why
	}
	return &jsonSyntaxError{Msg: msg, Column: at + 1}
}

func quoteByte(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	if c >= utf8.RuneSelf {
		q = fmt.Sprintf(`"\x%02x"`, c)
	}
	return "'" + q[1:len(q)-1] + "'"
}
