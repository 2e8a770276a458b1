package jsonscan

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Str reads a string. One without escapes is a slice of the text; one with
// escapes is decoded into a single new allocation.
func (s *Scanner) Str() (string, bool) {
	if s.Peek() != '"' {
		return "", s.fail(s.i, "looking for a string")
	}
	return s.str()
}

// str reads the string whose quote is at s.i.
func (s *Scanner) str() (string, bool) {
	start := s.i + 1
	ascii := true
	for i := start; i < len(s.s); i++ {
		switch c := s.s[i]; {
		case c == '"':
			str := s.s[start:i]
			s.i = i + 1
			if ascii || utf8.ValidString(str) {
				return str, true
			}
			if !s.ReplaceInvalid {
				return "", s.fail(start-1, "invalid UTF-8 in string literal")
			}
			return replaceInvalid(str), true
		case c == '\\':
			return s.escaped(start, i)
		case c < 0x20:
			return "", s.fail(i, "in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", s.fail(len(s.s), "in string literal")
}

// escaped decodes a string from its first byte at start; its first escape
// is at esc.
func (s *Scanner) escaped(start, esc int) (string, bool) {
	var b strings.Builder
	// Decoding never lengthens a string, so the encoded length is enough.
	b.Grow(closingQuote(s.s, esc) - start)
	b.WriteString(s.s[start:esc])
	run := esc // start of the bytes not yet copied
	for i := esc; i < len(s.s); {
		c := s.s[i]
		switch {
		case c == '"':
			b.WriteString(s.s[run:i])
			s.i = i + 1
			str := b.String()
			if utf8.ValidString(str) {
				return str, true
			}
			if !s.ReplaceInvalid {
				return "", s.fail(start-1, "invalid UTF-8 in string literal")
			}
			return replaceInvalid(str), true
		case c < 0x20:
			return "", s.fail(i, "in string literal")
		case c != '\\':
			i++
			continue
		}
		b.WriteString(s.s[run:i])
		i++ // the backslash
		if i >= len(s.s) {
			return "", s.fail(i, "in string escape code")
		}
		e := s.s[i]
		i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, at, ok := hex4(s.s, i)
			if !ok {
				return "", s.fail(at, "in \\u hexadecimal character escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if !s.ReplaceInvalid {
					return "", s.fail(i-6, "surrogate in \\u escape")
				}
				// Only a high surrogate followed by a low one makes a rune;
				// otherwise this escape is U+FFFD and the next stands alone.
				hi := r
				r = utf8.RuneError
				if i+1 < len(s.s) && s.s[i] == '\\' && s.s[i+1] == 'u' {
					if lo, _, ok := hex4(s.s, i+2); ok && utf16.DecodeRune(hi, lo) != utf8.RuneError {
						r = utf16.DecodeRune(hi, lo)
						i += 6
					}
				}
			}
			b.WriteRune(r)
		default:
			return "", s.fail(i-1, "in string escape code")
		}
		run = i
	}
	return "", s.fail(len(s.s), "in string literal")
}

// closingQuote returns the offset of the quote that ends the string holding
// from, or len(s) if none does.
func closingQuote(s string, from int) int {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i
		case '\\':
			i++
		}
	}
	return len(s)
}

// hex4 reads four hex digits at s[at:]. On failure at is the offending byte,
// or len(s) if the text ends first.
func hex4(s string, at int) (r rune, bad int, ok bool) {
	if at+4 > len(s) {
		return 0, len(s), false
	}
	for k := at; k < at+4; k++ {
		c := s[k]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, k, false
		}
		r = r<<4 | rune(c)
	}
	return r, 0, true
}

// replaceInvalid turns each invalid byte of str into U+FFFD, as
// encoding/json does (strings.ToValidUTF8 would merge a run into one).
func replaceInvalid(str string) string {
	out := make([]byte, 0, len(str)+8)
	for len(str) > 0 {
		r, n := utf8.DecodeRuneInString(str)
		out = utf8.AppendRune(out, r)
		str = str[n:]
	}
	return string(out)
}
