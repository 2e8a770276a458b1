package lsp

import (
	"github.com/llmpipe/llmpipe/lang"
)

// symbol is one named top-level block.
type symbol struct {
	kind  string // source, schema, model, ladder, cache, step, sink, test, …
	name  string
	block *lang.Block
}

// ref is one use of a block's name.
type ref struct {
	name  string
	rng   lang.Range
	attr  string // the attribute it appears in ("" inside a ladder value)
	block *lang.Block
}

// index holds a file's definitions and the places their names are used.
type index struct {
	defs map[string]*symbol
	list []*symbol // source order
	refs []ref
}

// refAttrs are the attributes whose values name blocks.
var refAttrs = map[string]bool{"from": true, "output": true, "cache": true, "models": true, "step": true, "schema": true}

func buildIndex(f *lang.File, text string) *index {
	x := &index{defs: map[string]*symbol{}}
	if f == nil {
		return x
	}
	for _, b := range f.Blocks {
		if b.Name != nil {
			s := &symbol{kind: b.Kind.Name, name: b.Name.Name, block: b}
			if _, dup := x.defs[s.name]; !dup {
				x.defs[s.name] = s
			}
			x.list = append(x.list, s)
		}
	}
	for _, b := range f.Blocks {
		x.blockRefs(b, text)
	}
	return x
}

func (x *index) blockRefs(b *lang.Block, text string) {
	if b.Value != nil { // ladder l = [ … ]
		x.valueRefs(b.Value, "", b)
	}
	if b.Body == nil {
		return
	}
	for _, e := range b.Body.Entries {
		switch e := e.(type) {
		case *lang.Attribute:
			if refAttrs[e.Name.Name] {
				x.valueRefs(e.Value, e.Name.Name, b)
			} else if e.Value != nil {
				x.exprRefs(e.Value.Range, text, e.Name.Name, b)
			}
		case *lang.Check:
			if e.Expr != nil {
				x.exprRefs(e.Expr.Range, text, "check", b)
			}
		case *lang.Expect:
			if e.Expr != nil {
				x.exprRefs(e.Expr.Range, text, "expect", b)
			}
		case *lang.Block:
			x.blockRefs(e, text)
		case *lang.Field:
			x.typeRefs(e.Type, b)
		}
	}
}

// valueRefs records block names written as references or as strings (a
// model block may be named in a ladder by its name).
func (x *index) valueRefs(v *lang.Value, attr string, b *lang.Block) {
	if v == nil {
		return
	}
	var walk func(l lang.Literal)
	walk = func(l lang.Literal) {
		switch l := l.(type) {
		case *lang.RefLit:
			if len(l.Parts) > 0 {
				p := l.Parts[0]
				x.refs = append(x.refs, ref{name: p.Name, rng: p.Range, attr: attr, block: b})
			}
		case *lang.StringLit:
			if _, ok := x.defs[l.Value]; ok {
				x.refs = append(x.refs, ref{name: l.Value, rng: l.Range, attr: attr, block: b})
			}
		case *lang.ListLit:
			for _, e := range l.Elems {
				if e != nil {
					walk(e.Lit)
				}
			}
		}
	}
	walk(v.Lit)
}

// typeRefs records schema names used as field types.
func (x *index) typeRefs(t *lang.TypeExpr, b *lang.Block) {
	if t == nil {
		return
	}
	if t.Name != nil {
		if s, ok := x.defs[t.Name.Name]; ok && s.kind == "schema" {
			x.refs = append(x.refs, ref{name: t.Name.Name, rng: t.Name.Range, attr: "type", block: b})
		}
	}
	x.typeRefs(t.List, b)
	for _, f := range t.Fields {
		x.typeRefs(f.Type, b)
	}
}

// exprRefs records step names used in expressions and templates (an earlier
// step's output is visible by the step's name).
func (x *index) exprRefs(r lang.Range, text, attr string, b *lang.Block) {
	lo, hi := r.Start.Offset, min(r.End.Offset, len(text))
	for _, t := range scanValue(text, lo, hi, attrRole(b.Kind.Name, attr) == roleTemplate) {
		if t.kind != tokName || t.afterDot {
			continue
		}
		name := text[t.start:t.end]
		if s, ok := x.defs[name]; ok && s.kind == "step" {
			x.refs = append(x.refs, ref{name: name, rng: offsetRange(r.File, t.start, t.end), attr: attr, block: b})
		}
	}
}

// refsTo lists the uses of name.
func (x *index) refsTo(name string) []ref {
	var out []ref
	for _, r := range x.refs {
		if r.name == name {
			out = append(out, r)
		}
	}
	return out
}

// at returns the definition or use of a name at byte offset off.
func (x *index) at(off int) (name string, ok bool) {
	for _, s := range x.list {
		if within(s.block.Name.Range, off) {
			return s.name, true
		}
	}
	for _, r := range x.refs {
		if within(r.rng, off) {
			return r.name, true
		}
	}
	return "", false
}

func within(r lang.Range, off int) bool { return off >= r.Start.Offset && off <= r.End.Offset }

// offsetRange is a lang range from byte offsets. Only the offsets are
// filled: the server converts positions through them.
func offsetRange(file string, lo, hi int) lang.Range {
	return lang.Range{File: file, Start: lang.Pos{Offset: lo}, End: lang.Pos{Offset: hi}}
}
