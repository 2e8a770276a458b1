package lang

import "strings"

// value renders an attribute value whose entry starts at start.
func (fm *formatter) value(v *Value, indent string, start Pos) string {
	if v.Range.Start.Line == v.Range.End.Line {
		return v.Raw
	}
	switch l := v.Lit.(type) {
	case *StringLit:
		if s, ok := regenTriple(l, indent+"  "); ok {
			return s
		}
	case *ListLit:
		if s, ok := fm.list(l, v.Range, indent); ok {
			return s
		}
	}
	return fm.verbatim(v.Range, indent, start)
}

// strText renders a string literal (a field's doc).
func (fm *formatter) strText(s *StringLit, indent string) string {
	if s.Range.Start.Line == s.Range.End.Line {
		return fm.text(s.Range)
	}
	if t, ok := regenTriple(s, indent+"  "); ok {
		return t
	}
	return fm.verbatim(s.Range, indent, s.Range.Start)
}

// regenTriple writes a """ string holding s.Value with its lines at indent
// and the closing """ on its own line when the value ends in a newline. It
// fails when that text would not decode to the same value (for example
// when every line starts with spaces and there is no final newline).
func regenTriple(s *StringLit, indent string) (string, bool) {
	if !s.Triple || strings.Contains(s.Value, `"""`) {
		return "", false
	}
	lines := strings.Split(s.Value, "\n")
	var b strings.Builder
	b.WriteString("\n")
	for i, l := range lines {
		if i == len(lines)-1 {
			b.WriteString(indent + l)
			break
		}
		if l != "" {
			b.WriteString(indent + l)
		}
		b.WriteString("\n")
	}
	body := b.String()
	if v, _ := decodeTriple(body, 0, nil); v != s.Value {
		return "", false
	}
	return `"""` + body + `"""`, true
}

// list renders a multi-line list one element per line, when every element
// is on one line and no comment sits inside the list.
func (fm *formatter) list(l *ListLit, r Range, indent string) (string, bool) {
	for _, c := range fm.f.Comments {
		if c.Range.Start.Offset > r.Start.Offset && c.Range.Start.Offset < r.End.Offset {
			return "", false
		}
	}
	if len(l.Elems) == 0 {
		return "[]", true
	}
	var b strings.Builder
	b.WriteString("[\n")
	for _, e := range l.Elems {
		if e.Range.Start.Line != e.Range.End.Line {
			return "", false
		}
		b.WriteString(indent + "  " + e.Raw + ",\n")
	}
	b.WriteString(indent + "]")
	return b.String(), true
}

// verbatim is the source text of r with its continuation lines shifted by
// as much as the entry starting at start moves to reach indent. A shift
// that would eat non-space text, or text holding a ` raw string (whose
// lines are content), is not made. Shifting every line of a """ string by
// the same amount keeps its decoded value, as its indentation is relative.
func (fm *formatter) verbatim(r Range, indent string, start Pos) string {
	for _, c := range fm.f.Comments {
		if c.Range.Start.Offset >= r.Start.Offset && c.Range.Start.Offset < r.End.Offset {
			fm.done[c] = true
		}
	}
	text := fm.text(r)
	lines := strings.Split(text, "\n")
	if !strings.Contains(text, `"""`) && !strings.Contains(text, "`") {
		// Outside multi-line strings a CRLF file's \r is only whitespace.
		for i := range lines {
			lines[i] = strings.TrimRight(lines[i], "\r")
		}
	}
	orig := start.Offset - fm.lines.starts[start.Line-1]
	delta := len(indent) - orig
	if strings.Contains(fm.text(r), "`") {
		delta = 0
	}
	if delta < 0 {
		for _, l := range lines[1:] {
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, strings.Repeat(" ", -delta)) {
				delta = 0
				break
			}
		}
	}
	for i := 1; i < len(lines); i++ {
		l := lines[i]
		switch {
		case delta > 0 && l != "":
			lines[i] = strings.Repeat(" ", delta) + l
		case delta < 0:
			n := len(l) - len(strings.TrimLeft(l, " "))
			lines[i] = l[min(n, -delta):]
		}
	}
	return strings.Join(lines, "\n")
}
