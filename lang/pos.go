package lang

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// lineIndex maps byte offsets of one source to positions. Lines end at '\n'
// only, so a CRLF file's '\r' is the last column of its line.
//
// Columns count runes. On an ASCII line a column is a subtraction; on
// other lines pos remembers the last column it counted to and counts on
// from there when asked about a later offset of the same line, as the
// parser does, so positions on a long line cost linear time in all. A
// lineIndex is therefore not safe for concurrent use.
type lineIndex struct {
	src    string
	starts []int  // byte offset of the first byte of each line
	ascii  []bool // line i holds only ASCII

	lastLine, lastOff, lastCol int // memo for non-ASCII lines
}

func newLineIndex(src string) *lineIndex {
	starts := []int{0}
	ascii := []bool{true}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\n':
			starts = append(starts, i+1)
			ascii = append(ascii, true)
		case c >= utf8.RuneSelf:
			ascii[len(ascii)-1] = false
		}
	}
	return &lineIndex{src: src, starts: starts, ascii: ascii, lastLine: -1}
}

// pos is the position of byte offset off (clamped to the source).
func (x *lineIndex) pos(off int) Pos {
	off = max(0, min(off, len(x.src)))
	line := sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > off }) - 1
	start := x.starts[line]
	if x.ascii[line] {
		return Pos{Line: line + 1, Col: 1 + off - start, Offset: off}
	}
	from, col := start, 1
	if line == x.lastLine && off >= x.lastOff {
		from, col = x.lastOff, x.lastCol
	}
	col += utf8.RuneCountInString(x.src[from:off])
	x.lastLine, x.lastOff, x.lastCol = line, off, col
	return Pos{Line: line + 1, Col: col, Offset: off}
}

// lineText is line n (1-based) without its line ending.
func (x *lineIndex) lineText(n int) string {
	if n < 1 || n > len(x.starts) {
		return ""
	}
	end := len(x.src)
	if n < len(x.starts) {
		end = x.starts[n] - 1
	}
	s := x.src[x.starts[n-1]:end]
	if len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	return s
}

// String renders a position as line:col.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// String renders a range as file:line:col (its start), the form editors jump to.
func (r Range) String() string {
	if r.File == "" {
		return r.Start.String()
	}
	return r.File + ":" + r.Start.String()
}

// advance returns the position reached from p after the text s.
func advance(p Pos, s string) Pos {
	for _, r := range s {
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
	}
	p.Offset += len(s)
	return p
}

// PosAt maps byte offset off of the decoded Value back to its place in the
// file (clamped to [0, len(Value)]). Bytes produced by an escape sequence map
// to its backslash; the end of the value maps just past the last decoded
// byte's source text.
func (s *StringLit) PosAt(off int) Pos {
	off = max(0, min(off, len(s.Value)))
	if len(s.Segments) == 0 {
		return s.Range.Start
	}
	i := sort.Search(len(s.Segments), func(i int) bool { return s.Segments[i].Offset > off }) - 1
	if i < 0 {
		return s.Segments[0].Pos
	}
	seg := s.Segments[i]
	if seg.Escape {
		if off == len(s.Value) && off > seg.Offset {
			// Past an escape that ends the string: the closing quote.
			return s.endPos()
		}
		return seg.Pos
	}
	if seg.plain {
		n := off - seg.Offset
		return Pos{Line: seg.Pos.Line, Col: seg.Pos.Col + n, Offset: seg.Pos.Offset + n}
	}
	return advance(seg.Pos, s.Value[seg.Offset:off])
}

// endPos is the position of the closing quote(s).
func (s *StringLit) endPos() Pos {
	n := 1
	if s.Triple {
		n = 3
	}
	e := s.Range.End
	e.Col -= n
	e.Offset -= n
	return e
}
