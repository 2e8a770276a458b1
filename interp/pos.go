package interp

import (
	"unicode/utf8"

	"github.com/llmpipe/llmpipe/lang"
)

// advance moves p over s, counting lines, rune columns and bytes.
func advance(p lang.Pos, s string) lang.Pos {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
		p.Offset += n
		i += n
	}
	return p
}

// runeOffset returns the byte offset of the n-th rune of s (len(s) past the end).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// litPos maps a byte offset in a string literal's decoded value to its
// position in the file, using the literal's segments. Without segments (a
// hand-built literal) the text is assumed verbatim after the opening quote.
func litPos(s *lang.StringLit, off int) lang.Pos {
	if off > len(s.Value) {
		off = len(s.Value)
	}
	if len(s.Segments) > 0 {
		return s.PosAt(off)
	}
	start := s.Range.Start
	start.Col++
	start.Offset++
	if s.Triple {
		start.Col += 2
		start.Offset += 2
	}
	return advance(start, s.Value[:off])
}

// rangeIn is the file range of s's decoded bytes [from, to).
func rangeIn(s *lang.StringLit, from, to int) lang.Range {
	return lang.Range{File: s.Range.File, Start: litPos(s, from), End: litPos(s, to)}
}
