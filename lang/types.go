package lang

import "fmt"

const helpTypes = `types are string, int, float, bool, a schema name, [T], "a" | "b", or { field TYPE … }, each optionally followed by ?`

// field := NAME type [STRING]
func (p *parser) field() *Field {
	t := p.peek()
	if t.kind != tIdent {
		p.expected(t, "expected a field name", `schema fields are written name TYPE "doc"`)
	}
	nt := p.next()
	f := &Field{Name: p.ident(nt), Type: p.typeExpr(nt.text)}
	end := f.Type.Range.End.Offset
	if d := p.peek(); d.kind == tString || d.kind == tTriple || d.kind == tStringOpen || d.kind == tTripleOpen {
		f.Doc = p.strLit(p.next())
		end = d.end
	}
	f.Range = p.rng(nt.start, end)
	return f
}

// type := (NAME | "[" type "]" | STRING { "|" STRING } | "{" fields "}") ["?"]
func (p *parser) typeExpr(field string) *TypeExpr {
	t := p.peek()
	te := &TypeExpr{}
	if (isPunct(t, "[") || isPunct(t, "{")) && p.typeDepth >= MaxNesting {
		p.fail(p.tokRange(t), fmt.Sprintf("types nest more than %d deep", MaxNesting), "name the inner object as a schema of its own")
	}
	p.typeDepth++
	defer func() { p.typeDepth-- }()
	switch {
	case t.kind == tIdent:
		p.next()
		n := p.ident(t)
		te.Name, te.Range = &n, n.Range
	case isPunct(t, "["):
		p.next()
		te.List = p.typeExpr("")
		c := p.peek()
		if !isPunct(c, "]") {
			p.expected(c, `expected "]" after the list element type`, "list types are written [T], e.g. [string]")
		}
		p.next()
		te.Range = p.rng(t.start, c.end)
	case t.kind == tString:
		te.Enum = append(te.Enum, p.stringLit(p.next()))
		end := t.end
		for isPunct(p.peek(), "|") {
			p.next()
			s := p.peek()
			if s.kind != tString {
				p.expected(s, `expected a string after "|"`, `enum types are written "a" | "b" | "c"`)
			}
			te.Enum = append(te.Enum, p.stringLit(p.next()))
			end = s.end
		}
		te.Range = p.rng(t.start, end)
	case isPunct(t, "{"):
		p.next()
		b := p.body(t, true, "object type opened here")
		for _, e := range b.Entries {
			te.Fields = append(te.Fields, e.(*Field))
		}
		te.Range = b.Range
	default:
		msg := "expected a type"
		if field != "" {
			msg = fmt.Sprintf("expected a type after field name %q", field)
		}
		p.expected(t, msg, helpTypes)
	}
	if q := p.peek(); isPunct(q, "?") {
		p.next()
		te.Optional = true
		te.Range.End = p.lines.pos(q.end)
	}
	return te
}
