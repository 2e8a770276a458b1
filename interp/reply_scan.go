package interp

import (
	"encoding/json"
	"unicode/utf8"
)

// replyScanner decodes one JSON value in a single pass, for the common reply
// that is exactly one clean JSON object. encoding/json needed two passes
// (json.Valid, then a Decoder) and a reflect walk; this builds the values
// directly, slicing strings without escapes and numbers (json.Number) out of
// the reply instead of copying them.
//
// It gives up (ok false) on anything unusual: a syntax error, text after
// the value, invalid UTF-8, a \u surrogate escape, deep nesting. The caller
// then takes the encoding/json path, which accepts or rejects the text and
// words any error, so the scanner only has to agree with encoding/json on
// the inputs it accepts.
type replyScanner struct {
	s     string
	i     int
	depth int
}

// scanMaxDepth is far below encoding/json's limit; deeper replies take the
// slow path.
const scanMaxDepth = 64

func (p *replyScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value decodes the value at p.i (white space before it skipped).
func (p *replyScanner) value() (any, bool) {
	p.ws()
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		return s, ok
	case c == '-' || (c >= '0' && c <= '9'):
		n, ok := p.number()
		return n, ok
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	}
	return nil, false
}

func (p *replyScanner) lit(w string) bool {
	if len(p.s)-p.i >= len(w) && p.s[p.i:p.i+len(w)] == w {
		p.i += len(w)
		return true
	}
	return false
}

// object decodes {...}; a repeated key keeps its last value, as in
// encoding/json.
func (p *replyScanner) object() (any, bool) {
	if p.depth++; p.depth > scanMaxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	p.i++ // {
	m := map[string]any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, true
	}
	for {
		k, ok := p.key()
		if !ok {
			return nil, false
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		if !p.next('}') {
			return m, p.i <= len(p.s) && p.s[p.i-1] == '}'
		}
	}
}

// key reads `"name" :`.
func (p *replyScanner) key() (string, bool) {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false
	}
	k, ok := p.str()
	if !ok {
		return "", false
	}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != ':' {
		return "", false
	}
	p.i++
	return k, true
}

// next consumes the ',' between members (true: another follows) or the
// closing bracket (false; the caller checks it was consumed).
func (p *replyScanner) next(closing byte) bool {
	p.ws()
	if p.i >= len(p.s) {
		p.i = len(p.s) + 1 // marks failure for the caller's check
		return false
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		return true
	case closing:
		p.i++
		return false
	}
	p.i = len(p.s) + 1
	return false
}

func (p *replyScanner) array() (any, bool) {
	if p.depth++; p.depth > scanMaxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	p.i++ // [
	l := []any{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return l, true
	}
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		l = append(l, v)
		if !p.next(']') {
			return l, p.i <= len(p.s) && p.s[p.i-1] == ']'
		}
	}
}

// str decodes the string starting at the quote at p.i.
func (p *replyScanner) str() (string, bool) {
	start := p.i + 1
	ascii := true
	for i := start; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case c == '"':
			p.i = i + 1
			s := p.s[start:i]
			if !ascii && !utf8.ValidString(s) {
				return "", false // encoding/json substitutes U+FFFD; let it
			}
			return s, true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// escaped decodes a string holding escapes, from its first byte at start.
func (p *replyScanner) escaped(start int) (string, bool) {
	b := make([]byte, 0, 32)
	for i := start; i < len(p.s); {
		c := p.s[i]
		switch {
		case c == '"':
			p.i = i + 1
			if !utf8.Valid(b) {
				return "", false
			}
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(p.s) {
			return "", false
		}
		switch e := p.s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(p.s, i+2)
			if !ok || (r >= 0xD800 && r < 0xE000) {
				return "", false // surrogates: encoding/json pairs or replaces them
			}
			b = utf8.AppendRune(b, r)
			i += 6
			continue
		default:
			return "", false
		}
		i += 2
	}
	return "", false
}

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[at : at+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// numberNext reports whether a number starts at p.i (after white space).
func (p *replyScanner) numberNext() bool {
	p.ws()
	return p.i < len(p.s) && (p.s[p.i] == '-' || (p.s[p.i] >= '0' && p.s[p.i] <= '9'))
}

// number slices a number in JSON's grammar out of the reply.
func (p *replyScanner) number() (json.Number, bool) {
	s, i := p.s, p.i
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return "", false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return "", false
		}
	}
	n := json.Number(s[p.i:i])
	p.i = i
	return n, true
}

// scanFields decodes text, which must be one JSON object and nothing else
// (white space aside), keeping only the members fields names: vals[i] and
// has[i] describe fields[i]. Other members are checked and dropped. A number
// for an int or number field is converted at once (typed[i]): boxing it as
// a json.Number first would cost an allocation.
func scanFields(text string, fields []*Field, vals []any, has, typed []bool) bool {
	p := &replyScanner{s: text}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return false
	}
	p.depth = 1
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
	} else {
		for {
			k, ok := p.key()
			if !ok {
				return false
			}
			j := -1
			for i, f := range fields {
				if f.Name == k {
					j = i
					break
				}
			}
			if j >= 0 && p.numberNext() && (fields[j].Type.Kind == KindInt || fields[j].Type.Kind == KindFloat) {
				n, ok := p.number()
				if !ok {
					return false
				}
				if v, ok := numberValue(fields[j].Type.Kind, n); ok {
					vals[j], has[j], typed[j] = v, true, true
				} else {
					vals[j], has[j], typed[j] = n, true, false // conform words the misfit
				}
			} else {
				v, ok := p.value()
				if !ok {
					return false
				}
				if j >= 0 {
					vals[j], has[j], typed[j] = v, true, false
				}
			}
			if !p.next('}') {
				if p.i > len(p.s) {
					return false
				}
				break
			}
		}
	}
	p.ws()
	return p.i == len(p.s)
}
