package lsp

import (
	"sort"
	"unicode/utf8"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/lang"
)

// encoding is how a position's character counts: the protocol's default is
// UTF-16 code units; a client may negotiate UTF-8 bytes or UTF-32 runes.
type encoding string

const (
	utf16 encoding = "utf-16"
	utf8E encoding = "utf-8"
	utf32 encoding = "utf-32"
)

// pickEncoding chooses from the encodings a client offers, in its order of
// preference, the first one the server supports; UTF-16 when none is offered.
func pickEncoding(offered []string) encoding {
	for _, e := range offered {
		switch encoding(e) {
		case utf8E, utf16, utf32:
			return encoding(e)
		}
	}
	return utf16
}

// lines maps byte offsets of one text to protocol positions and back.
type lines struct {
	text   string
	starts []int // byte offset of each line's first byte
	enc    encoding
}

func newLines(text string, enc encoding) *lines {
	starts := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lines{text: text, starts: starts, enc: enc}
}

// units is how many position units rune r takes.
func (l *lines) units(r rune) int {
	switch l.enc {
	case utf8E:
		return utf8.RuneLen(r)
	case utf32:
		return 1
	}
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// position is the protocol position of byte offset off.
func (l *lines) position(off int) protocol.Position {
	off = max(0, min(off, len(l.text)))
	line := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
	ch := 0
	for _, r := range l.text[l.starts[line]:off] {
		ch += l.units(r)
	}
	return protocol.Position{Line: protocol.UInteger(line), Character: protocol.UInteger(ch)}
}

// offset is the byte offset of protocol position p, clamped to its line (a
// character past the line's end means its end, as the protocol says).
func (l *lines) offset(p protocol.Position) int {
	line := int(p.Line)
	if line >= len(l.starts) {
		return len(l.text)
	}
	end := len(l.text)
	if line+1 < len(l.starts) {
		end = l.starts[line+1] - 1 // the '\n'
	}
	off, ch := l.starts[line], 0
	for off < end && ch < int(p.Character) {
		r, size := utf8.DecodeRuneInString(l.text[off:end])
		if ch+l.units(r) > int(p.Character) {
			break // inside a surrogate pair: stay before it
		}
		ch += l.units(r)
		off += size
	}
	return off
}

// byteOffset is the byte offset of a checker position. Line and column (in
// runes) are what every diagnostic carries; a position built from offsets
// alone (Line 0) is taken as its offset.
func (l *lines) byteOffset(p lang.Pos) int {
	if p.Line < 1 || p.Line > len(l.starts) {
		return max(0, min(p.Offset, len(l.text)))
	}
	off := l.starts[p.Line-1]
	for n := 1; n < p.Col && off < len(l.text) && l.text[off] != '\n'; n++ {
		_, size := utf8.DecodeRuneInString(l.text[off:])
		off += size
	}
	return off
}

// rangeOf is the protocol range of a checker range.
func (l *lines) rangeOf(r lang.Range) protocol.Range {
	lo, hi := l.byteOffset(r.Start), l.byteOffset(r.End)
	return protocol.Range{Start: l.position(lo), End: l.position(max(lo, hi))}
}
