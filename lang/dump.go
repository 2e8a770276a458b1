package lang

import (
	"fmt"
	"strconv"
	"strings"
)

// Dump renders f as a compact S-expression with line:col ranges, for golden
// tests and debugging. Strings that are triple-quoted or contain escapes also
// list their segments as offset@line:col (an escape segment ends in "!").
func Dump(f *File) string { return dump(f, true) }

// dump without positions describes the meaning of a file; the formatter
// must not change it.
func dump(f *File, withPos bool) string {
	d := &dumper{pos: withPos}
	d.printf("(file")
	d.depth++
	for _, b := range f.Blocks {
		d.block(b)
	}
	for _, c := range f.Comments {
		d.printf("(comment%s %s)", d.r(c.Range), strconv.Quote(c.Text))
	}
	d.depth--
	d.printf(")")
	return d.b.String()
}

type dumper struct {
	b     strings.Builder
	depth int
	pos   bool
}

func (d *dumper) printf(format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", d.depth))
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func (d *dumper) r(r Range) string {
	if !d.pos {
		return ""
	}
	return fmt.Sprintf(" %d:%d-%d:%d", r.Start.Line, r.Start.Col, r.End.Line, r.End.Col)
}

func (d *dumper) block(b *Block) {
	head := "(block" + d.r(b.Range) + " " + b.Kind.Name
	if b.Name != nil {
		head += " " + b.Name.Name
	}
	if b.Value != nil {
		d.printf("%s = %s)", head, d.value(b.Value))
		return
	}
	d.printf("%s", head)
	d.depth++
	for _, e := range b.Body.Entries {
		d.entry(e)
	}
	d.depth--
	d.printf(")")
}

func (d *dumper) entry(e Entry) {
	switch e := e.(type) {
	case *Attribute:
		d.printf("(attr%s %s %s)", d.r(e.Range), e.Name.Name, d.value(e.Value))
	case *Check:
		name := ""
		if e.Name != nil {
			name = " " + e.Name.Name
		}
		msg := "-"
		if e.Message != nil {
			msg = d.lit(e.Message)
		}
		d.printf("(check%s%s %s %s)", d.r(e.Range), name, msg, d.expr(e.Expr))
	case *Expect:
		d.printf("(expect%s %s)", d.r(e.Range), d.expr(e.Expr))
	case *Block:
		d.block(e)
	case *Field:
		d.field(e)
	}
}

func (d *dumper) field(f *Field) {
	doc := ""
	if f.Doc != nil {
		doc = " " + d.lit(f.Doc)
	}
	d.printf("(field%s %s %s%s)", d.r(f.Range), f.Name.Name, d.typ(f.Type), doc)
}

func (d *dumper) typ(t *TypeExpr) string {
	q := ""
	if t.Optional {
		q = "?"
	}
	switch {
	case t.Name != nil:
		return fmt.Sprintf("(name%s%s %s)", q, d.r(t.Range), t.Name.Name)
	case t.List != nil:
		return fmt.Sprintf("(list%s%s %s)", q, d.r(t.Range), d.typ(t.List))
	case t.Enum != nil:
		var parts []string
		for _, s := range t.Enum {
			parts = append(parts, d.lit(s))
		}
		return fmt.Sprintf("(enum%s%s %s)", q, d.r(t.Range), strings.Join(parts, " "))
	}
	// Objects nest fields over several lines, using a sub-dumper.
	sub := &dumper{pos: d.pos, depth: d.depth + 1}
	for _, f := range t.Fields {
		sub.field(f)
	}
	return fmt.Sprintf("(object%s%s\n%s%s)", q, d.r(t.Range), sub.b.String(), strings.Repeat("  ", d.depth))
}

func (d *dumper) value(v *Value) string {
	if v.Lit == nil {
		return d.expr(v)
	}
	return d.lit(v.Lit)
}

func (d *dumper) expr(v *Value) string {
	raw := v.Raw
	if !d.pos {
		raw = exprKey(raw)
	}
	return fmt.Sprintf("(expr%s %s)", d.r(v.Range), strconv.Quote(raw))
}

func (d *dumper) lit(l Literal) string {
	switch l := l.(type) {
	case *StringLit:
		extra := ""
		if l.Triple {
			extra = " triple"
		}
		if d.pos && (l.Triple || len(l.Segments) > 1 || len(l.Segments) == 1 && l.Segments[0].Escape) {
			var segs []string
			for _, s := range l.Segments {
				e := ""
				if s.Escape {
					e = "!"
				}
				segs = append(segs, fmt.Sprintf("%d@%d:%d%s", s.Offset, s.Pos.Line, s.Pos.Col, e))
			}
			extra += " (segs " + strings.Join(segs, " ") + ")"
		}
		return fmt.Sprintf("(string%s %s%s)", d.r(l.Range), strconv.Quote(l.Value), extra)
	case *NumberLit:
		if l.IsInt {
			return fmt.Sprintf("(int%s %d)", d.r(l.Range), l.Int)
		}
		return fmt.Sprintf("(float%s %g)", d.r(l.Range), l.Float)
	case *DurationLit:
		return fmt.Sprintf("(duration%s %s)", d.r(l.Range), l.Duration)
	case *MoneyLit:
		return fmt.Sprintf("(money%s %g)", d.r(l.Range), l.Dollars)
	case *RefLit:
		return fmt.Sprintf("(ref%s %s)", d.r(l.Range), l.Dotted())
	case *ListLit:
		var parts []string
		for _, e := range l.Elems {
			parts = append(parts, d.value(e))
		}
		if len(parts) == 0 {
			return fmt.Sprintf("(list%s)", d.r(l.Range))
		}
		return fmt.Sprintf("(list%s %s)", d.r(l.Range), strings.Join(parts, " "))
	case *RangeLit:
		return fmt.Sprintf("(range%s %s %s)", d.r(l.Range), d.value(l.Lo), d.value(l.Hi))
	}
	return "(?)"
}

// exprKey is what an expression means to the formatter: its tokens without
// layout, with """ strings replaced by their decoded value.
func exprKey(raw string) string {
	toks := tokenizeValue(raw)
	var parts []string
	for _, t := range toks {
		switch t.kind {
		case tNewline, tEOF:
		case tTriple:
			v, _ := decodeTriple(t.text[3:len(t.text)-3], 0, nil)
			parts = append(parts, strconv.Quote(v))
		default:
			parts = append(parts, t.text)
		}
	}
	return strings.Join(parts, " ")
}
