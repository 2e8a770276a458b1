package lang

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Format prints f in canonical form. f must come from a successful Parse
// (Format reads value text from f.Src). The canonical form:
//
//   - two spaces of indentation per nesting level, one blank line between
//     top-level blocks, runs of blank lines collapsed to one, none at the
//     start or end of a body;
//   - in a run of consecutive single-line attributes (not broken by a blank
//     line, a comment line or another kind of entry) the "=" signs line up;
//     a multi-line attribute stands alone;
//   - schema fields line up in name, type and doc columns;
//   - check lines are kept as written, only re-indented;
//   - trailing comments keep their distance from the text before them, and
//     line up within a run (the farthest one wins);
//   - a multi-line """ string is re-indented two spaces deeper than its
//     entry (its decoded value never changes), a multi-line list of simple
//     elements gets one element per line with a trailing comma, and any
//     other multi-line value keeps its lines, shifted with its entry.
//
// Format is idempotent and keeps the meaning of the file (the AST apart
// from positions, and every comment).
func Format(f *File) []byte {
	fm := &formatter{f: f, src: string(f.Src), lines: newLineIndex(string(f.Src)), done: map[*Comment]bool{}}
	entries := make([]Entry, len(f.Blocks))
	for i, b := range f.Blocks {
		entries[i] = b
	}
	items, _ := fm.collect(entries, -1, len(fm.src)+1)
	var b strings.Builder
	fm.items(&b, items, "", true)
	return []byte(b.String())
}

type formatter struct {
	f     *File
	src   string
	lines *lineIndex
	done  map[*Comment]bool // comments already printed
}

// item is one line-level thing in a body: an entry (with the comment that
// trails it) or a comment on a line of its own.
type item struct {
	entry      Entry
	comment    *Comment
	trail      *Comment
	start, end int // source lines
	offset     int
}

// collect gathers the entries of a body and the comments between its
// braces at offsets lo and hi. Comments inside an entry belong to it; a
// comment on the line of the opening brace is the header comment.
func (fm *formatter) collect(entries []Entry, lo, hi int) ([]item, *Comment) {
	var items []item
	for _, e := range entries {
		r := e.EntryRange()
		items = append(items, item{entry: e, start: r.Start.Line, end: r.End.Line, offset: r.Start.Offset})
	}
	openLine := -1
	if lo >= 0 {
		openLine = fm.lines.pos(lo).Line
	}
	var header *Comment
	var own []item
outer:
	for _, c := range fm.f.Comments {
		off := c.Range.Start.Offset
		if off <= lo || off >= hi || fm.done[c] {
			continue
		}
		for k := range items {
			r := items[k].entry.EntryRange()
			if off >= r.Start.Offset && off < r.End.Offset {
				continue outer // printed with the entry
			}
			if r.End.Line == c.Range.Start.Line && r.End.Offset <= off {
				items[k].trail = c
				continue outer
			}
		}
		if c.Range.Start.Line == openLine {
			header = c
			continue
		}
		own = append(own, item{comment: c, start: c.Range.Start.Line, end: c.Range.Start.Line, offset: off})
	}
	items = append(items, own...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].offset < items[j].offset })
	return items, header
}

// items prints a body's items at indent.
func (fm *formatter) items(b *strings.Builder, items []item, indent string, top bool) {
	for k := 0; k < len(items); {
		it := items[k]
		if k > 0 {
			prev := items[k-1]
			if top && prev.entry != nil || it.start > prev.end+1 {
				b.WriteByte('\n')
			}
		}
		if it.comment != nil {
			fm.done[it.comment] = true
			b.WriteString(indent + it.comment.Text + "\n")
			k++
			continue
		}
		cls := fm.runClass(it)
		j := k + 1
		if cls != "" {
			for j < len(items) && fm.runClass(items[j]) == cls && items[j].start == items[j-1].end+1 {
				j++
			}
		}
		fm.run(b, items[k:j], indent, cls)
		k = j
	}
}

// runClass says which alignment run an item can join ("" for none).
func (fm *formatter) runClass(it item) string {
	if it.entry == nil {
		return ""
	}
	r := it.entry.EntryRange()
	if r.Start.Line != r.End.Line {
		return ""
	}
	switch e := it.entry.(type) {
	case *Attribute:
		return "attr"
	case *Check:
		return "check"
	case *Field:
		if !hasObject(e.Type) {
			return "field"
		}
	}
	return ""
}

func hasObject(t *TypeExpr) bool {
	switch {
	case t.Name != nil || t.Enum != nil:
		return false
	case t.List != nil:
		return hasObject(t.List)
	}
	return len(t.Fields) > 0
}

// run prints items that align together (or a single item when cls is "").
func (fm *formatter) run(b *strings.Builder, items []item, indent, cls string) {
	texts := make([]string, len(items))
	switch cls {
	case "attr":
		w := 0
		for _, it := range items {
			w = max(w, len(it.entry.(*Attribute).Name.Name))
		}
		for i, it := range items {
			a := it.entry.(*Attribute)
			texts[i] = indent + a.Name.Name + strings.Repeat(" ", w-len(a.Name.Name)) + " = " + a.Value.Raw
		}
	case "field":
		nw, tw := 0, 0
		types := make([]string, len(items))
		for i, it := range items {
			f := it.entry.(*Field)
			types[i] = fm.typeStr(f.Type, indent)
			nw = max(nw, len(f.Name.Name))
			tw = max(tw, utf8.RuneCountInString(types[i]))
		}
		for i, it := range items {
			f := it.entry.(*Field)
			s := indent + f.Name.Name + strings.Repeat(" ", nw-len(f.Name.Name)) + " " + types[i]
			if f.Doc != nil {
				s += strings.Repeat(" ", tw-utf8.RuneCountInString(types[i])) + " " + fm.text(f.Doc.Range)
			}
			texts[i] = s
		}
	default:
		for i, it := range items {
			texts[i] = fm.entry(it.entry, indent)
		}
	}
	// Trailing comments keep their gap and line up at the farthest column.
	col := 0
	for i, it := range items {
		if it.trail != nil {
			col = max(col, width(lastLine(texts[i]))+fm.gap(it.entry.EntryRange().End, it.trail))
		}
	}
	for i, it := range items {
		s := texts[i]
		if it.trail != nil {
			fm.done[it.trail] = true
			s += strings.Repeat(" ", col-width(lastLine(s))) + it.trail.Text
		}
		b.WriteString(s + "\n")
	}
}

// gap is the distance from end (on the comment's line) to the comment.
func (fm *formatter) gap(end Pos, c *Comment) int {
	return max(1, c.Range.Start.Col-end.Col)
}

func width(s string) int { return utf8.RuneCountInString(s) }

func lastLine(s string) string { return s[strings.LastIndexByte(s, '\n')+1:] }

// entry renders one entry at indent, without a trailing newline.
func (fm *formatter) entry(e Entry, indent string) string {
	switch e := e.(type) {
	case *Attribute:
		return indent + e.Name.Name + " = " + fm.value(e.Value, indent, e.Range.Start)
	case *Check:
		return indent + fm.verbatim(e.Range, indent, e.Range.Start)
	case *Expect:
		return indent + fm.verbatim(e.Range, indent, e.Range.Start)
	case *Block:
		return fm.block(e, indent)
	case *Field:
		return fm.field(e, indent)
	}
	return ""
}

func (fm *formatter) block(b *Block, indent string) string {
	head := indent + b.Kind.Name
	if b.Name != nil {
		head += " " + b.Name.Name
	}
	if b.Value != nil {
		return head + " = " + fm.value(b.Value, indent, b.Range.Start)
	}
	entries := b.Body.Entries
	return head + " " + fm.braced(entries, b.Body.Range.Start.Offset, b.Body.Range.End.Offset-1, indent)
}

// braced renders "{ … }" whose braces are at offsets lo and hi.
func (fm *formatter) braced(entries []Entry, lo, hi int, indent string) string {
	items, header := fm.collect(entries, lo, hi)
	if len(items) == 0 && header == nil {
		return "{}"
	}
	var b strings.Builder
	b.WriteString("{")
	if header != nil {
		fm.done[header] = true
		open := fm.lines.pos(lo)
		b.WriteString(strings.Repeat(" ", max(1, header.Range.Start.Col-open.Col-1)) + header.Text)
	}
	b.WriteString("\n")
	fm.items(&b, items, indent+"  ", false)
	b.WriteString(indent + "}")
	return b.String()
}

// field renders a field that does not align with others (a multi-line
// one). If some comment inside it would be lost, it is kept as written.
func (fm *formatter) field(f *Field, indent string) string {
	s := f.Name.Name + " " + fm.typeStr(f.Type, indent)
	if f.Doc != nil {
		s += " " + fm.strText(f.Doc, indent)
	}
	for _, c := range fm.f.Comments {
		if c.Range.Start.Offset > f.Range.Start.Offset && c.Range.Start.Offset < f.Range.End.Offset && !fm.done[c] {
			return indent + fm.verbatim(f.Range, indent, f.Range.Start)
		}
	}
	return indent + s
}

func (fm *formatter) typeStr(t *TypeExpr, indent string) string {
	var s string
	switch {
	case t.Name != nil:
		s = t.Name.Name
	case t.List != nil:
		s = "[" + fm.typeStr(t.List, indent) + "]"
	case t.Enum != nil:
		parts := make([]string, len(t.Enum))
		for i, e := range t.Enum {
			parts[i] = fm.text(e.Range)
		}
		s = strings.Join(parts, " | ")
	default:
		lo := t.Range.Start.Offset
		hi := lo + strings.LastIndexByte(fm.src[lo:t.Range.End.Offset], '}')
		entries := make([]Entry, len(t.Fields))
		for i, f := range t.Fields {
			entries[i] = f
		}
		s = fm.braced(entries, lo, hi, indent)
	}
	if t.Optional {
		s += "?"
	}
	return s
}

// text is the source text of r.
func (fm *formatter) text(r Range) string { return fm.src[r.Start.Offset:r.End.Offset] }
