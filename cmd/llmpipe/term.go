package main

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// Text from items (prompts, replies, outputs, error messages) reaches the
// terminal through termSafe: an item may hold escape sequences that clear
// the screen or retitle the window, a carriage return that hides what came
// before it, or a bidi override that shows text in another order. Each is
// printed as a Go-style escape instead (\x1b, \r, \u202e); newlines and
// tabs stay, since prompts and replies are multi-line text.

// termSafe returns s with every control character other than newline and
// tab, every C1 control, every bidi control and every byte that is not
// UTF-8 escaped. It returns s itself when there is nothing to escape.
func termSafe(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(s[i]), 2)
		case !unsafeRune(r, size):
			b = append(b, s[i:i+size]...)
		case r < utf8.RuneSelf:
			// \a \b \f \r \v as Go writes them; the rest as \xNN.
			q := strconv.QuoteRuneToASCII(r)
			b = append(b, q[1:len(q)-1]...)
		default:
			b = append(b, `\u`...)
			b = appendHex(b, uint32(r), 4)
		}
		i += size
	}
	return string(b)
}

func unsafeRune(r rune, size int) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r == utf8.RuneError && size == 1: // a byte that is not UTF-8
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls: 0x9b is a CSI on some terminals
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // bidi marks
		r >= 0x202a && r <= 0x202e, // embeddings and overrides
		r >= 0x2066 && r <= 0x2069: // isolates
		return true
	}
	return false
}

func appendHex(b []byte, v uint32, digits int) []byte {
	const hex = "0123456789abcdef"
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, hex[(v>>shift)&15])
	}
	return b
}

// termWriter passes every Write through termSafe. Each Write must hold
// whole characters, as each fmt.Fprint call does.
type termWriter struct{ w io.Writer }

func (t termWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, termSafe(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
