package stdlib

// A small JSON parser for jsonl lines. encoding/json spends ~5µs on a short
// line here (reflection, a scan pass, a Decoder per line), which caps a jsonl
// source near 200k lines/s; this parser builds map[string]any directly and
// slices every string that needs no unescaping out of one copy of the line,
// so a typical line costs a handful of allocations.
//
// It accepts exactly RFC 8259 JSON, like encoding/json: invalid UTF-8 and
// lone surrogates become U+FFFD, a repeated key keeps its last value.
// Numbers are normalised as normalize does. A differential fuzz test holds it
// to encoding/json's results.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
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

type jsonParser struct {
	s     string // the line, copied once; strings are sliced from it
	i     int
	depth int
}

// parseJSON parses b as one JSON value surrounded only by white space.
func parseJSON(b []byte) (any, error) {
	p := &jsonParser{s: string(b)}
	p.ws()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, p.errf("unexpected data after the value")
	}
	return v, nil
}

func (p *jsonParser) errf(format string, args ...any) error {
	return &jsonSyntaxError{Msg: fmt.Sprintf(format, args...), Column: p.i + 1}
}

// unexpected reports the byte at p.i, or the end of the input.
func (p *jsonParser) unexpected(context string) error {
	if p.i >= len(p.s) {
		return &jsonSyntaxError{Msg: "unexpected end of line " + context, Column: p.i + 1}
	}
	return p.errf("invalid character %s %s", quoteByte(p.s[p.i]), context)
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

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.unexpected("looking for a value")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		str, err := p.string()
		return str, err
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.unexpected("looking for a value")
}

func (p *jsonParser) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.s) || p.s[p.i] != word[k] {
			return p.unexpected("in literal " + word)
		}
		p.i++
	}
	return nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errf("nested too deeply")
	}
	return nil
}

func (p *jsonParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // '{'
	m := make(map[string]any)
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return m, nil
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.unexpected("looking for an object key")
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.unexpected("after an object key")
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			p.ws()
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			p.depth--
			return m, nil
		}
		return nil, p.unexpected("after an object value")
	}
}

func (p *jsonParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // '['
	a := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return a, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			p.ws()
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			p.depth--
			return a, nil
		}
		return nil, p.unexpected("after an array element")
	}
}

// string parses a string at p.i (which holds '"'). Plain ASCII or valid
// UTF-8 without escapes is sliced from the line without a copy.
func (p *jsonParser) string() (string, error) {
	p.i++
	start := p.i
	ascii := true
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			seg := p.s[start:p.i]
			p.i++
			if ascii || utf8.ValidString(seg) {
				return seg, nil
			}
			return p.slowString(start, p.i-1)
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return "", p.errf("invalid character %s in string literal", quoteByte(c))
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", p.unexpected("in string literal")
}

// escapedString continues a string that has escapes, from its start.
func (p *jsonParser) escapedString(start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return validUTF8(buf), nil
		case c < 0x20:
			return "", p.errf("invalid character %s in string literal", quoteByte(c))
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++ // the backslash
		if p.i >= len(p.s) {
			return "", p.unexpected("in string escape code")
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.unexpected("in \\u hexadecimal character escape")
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by a low one makes a rune;
				// otherwise this escape is U+FFFD and the next stands alone.
				hi := r
				r = utf8.RuneError
				if save := p.i; p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					p.i += 2
					if lo, ok := p.hex4(); ok && utf16.DecodeRune(hi, lo) != utf8.RuneError {
						r = utf16.DecodeRune(hi, lo)
					} else {
						p.i = save
					}
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.i--
			return "", p.errf("invalid character %s in string escape code", quoteByte(e))
		}
	}
	return "", p.unexpected("in string literal")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		p.i = len(p.s)
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.s[p.i]
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
		p.i++
	}
	return r, true
}

// slowString returns s[start:end] with invalid UTF-8 replaced.
func (p *jsonParser) slowString(start, end int) (string, error) {
	return validUTF8([]byte(p.s[start:end])), nil
}

// validUTF8 converts b to a string, each invalid byte becoming U+FFFD as
// encoding/json does.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r)
		b = b[n:]
	}
	return string(out)
}

// number parses a JSON number and normalises it: an integer that fits in an
// int stays an int, anything else is a float64 (or, beyond float64, its text).
func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.s) {
		return nil, p.unexpected("in numeric literal")
	}
	switch c := p.s[p.i]; {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
	default:
		return nil, p.unexpected("in numeric literal")
	}
	integer := true
	if p.i < len(p.s) && p.s[p.i] == '.' {
		integer = false
		p.i++
		if !p.digits() {
			return nil, p.unexpected("after decimal point in numeric literal")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return nil, p.unexpected("in exponent of numeric literal")
		}
	}
	text := p.s[start:p.i]
	if integer && len(text) < 19 { // fits in an int64 without checking
		n := 0
		neg := text[0] == '-'
		for _, c := range []byte(text[btoi(neg):]) {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		return n, nil
	}
	return normalizeNumber(json.Number(text)), nil
}

func (p *jsonParser) digits() bool {
	start := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
