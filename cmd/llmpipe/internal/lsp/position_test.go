package lsp

import (
	"testing"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// The checker counts columns in runes; the protocol in UTF-16 units unless
// negotiated. Text with a 2-byte rune (é), a 3-byte rune (中) and a rune
// outside the BMP (𝄞, a surrogate pair in UTF-16) tells them apart.
func TestPositionEncodings(t *testing.T) {
	text := "a = 1\nx = \"é中𝄞\" # z\nlast"
	// byte offset of 'z' on line 1: "x = \"" is 5 bytes, é 2, 中 3, 𝄞 4, "\" # " 4.
	zOff := len("a = 1\n") + 5 + 2 + 3 + 4 + 4
	if text[zOff] != 'z' {
		t.Fatalf("test setup: offset %d is %q", zOff, text[zOff])
	}
	tests := []struct {
		enc  encoding
		char protocol.UInteger
	}{
		{utf16, 5 + 1 + 1 + 2 + 4}, // é=1, 中=1, 𝄞=2 units
		{utf8E, 5 + 2 + 3 + 4 + 4},
		{utf32, 5 + 1 + 1 + 1 + 4},
	}
	for _, tc := range tests {
		l := newLines(text, tc.enc)
		p := l.position(zOff)
		if p.Line != 1 || p.Character != tc.char {
			t.Errorf("%s: position = %d:%d, want 1:%d", tc.enc, p.Line, p.Character, tc.char)
		}
		if got := l.offset(p); got != zOff {
			t.Errorf("%s: offset(%v) = %d, want %d", tc.enc, p, got, zOff)
		}
	}
}

func TestOffsetClamps(t *testing.T) {
	l := newLines("ab\n𝄞c\n", utf16)
	tests := []struct {
		p    protocol.Position
		want int
	}{
		{protocol.Position{Line: 0, Character: 99}, 2}, // past the end of a line: its end
		{protocol.Position{Line: 1, Character: 1}, 3},  // inside the surrogate pair: before it
		{protocol.Position{Line: 1, Character: 2}, 7},  // after 𝄞
		{protocol.Position{Line: 9, Character: 0}, 9},  // past the last line: the end
	}
	for _, tc := range tests {
		if got := l.offset(tc.p); got != tc.want {
			t.Errorf("offset(%d:%d) = %d, want %d", tc.p.Line, tc.p.Character, got, tc.want)
		}
	}
}

func TestPickEncoding(t *testing.T) {
	tests := []struct {
		offered []string
		want    encoding
	}{
		{nil, utf16},
		{[]string{"utf-8", "utf-16"}, utf8E},
		{[]string{"utf-32"}, utf32},
		{[]string{"latin-1"}, utf16},
	}
	for _, tc := range tests {
		if got := pickEncoding(tc.offered); got != tc.want {
			t.Errorf("pickEncoding(%v) = %s, want %s", tc.offered, got, tc.want)
		}
	}
}
