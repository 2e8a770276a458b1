package lsp

import (
	"path/filepath"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
)

// place is where an offset falls in the tree.
type place struct {
	top   *lang.Block // the top-level block around the offset, or nil
	block *lang.Block // the innermost block
	attr  string      // the attribute (or "check") whose value holds the offset
	value *lang.Value
	field *lang.Field // a schema field whose line holds the offset

	onKind     bool // on the block's kind word
	onAttrName bool // on an attribute's name
}

func placeAt(f *lang.File, off int) place {
	var p place
	if f == nil {
		return p
	}
	for _, b := range f.Blocks {
		if within(b.Range, off) {
			p.top = b
			p.descend(b, off)
			return p
		}
	}
	return p
}

func (p *place) descend(b *lang.Block, off int) {
	p.block = b
	if within(b.Kind.Range, off) {
		p.onKind = true
		return
	}
	if b.Value != nil && within(b.Value.Range, off) {
		p.attr, p.value = "", b.Value
		return
	}
	if b.Body == nil {
		return
	}
	for _, e := range b.Body.Entries {
		if !within(e.EntryRange(), off) {
			continue
		}
		switch e := e.(type) {
		case *lang.Block:
			p.descend(e, off)
		case *lang.Attribute:
			p.attr = e.Name.Name
			if within(e.Name.Range, off) {
				p.onAttrName = true
			} else {
				p.value = e.Value
			}
		case *lang.Check:
			p.attr, p.value = "check", e.Expr
		case *lang.Expect:
			p.attr, p.value = "expect", e.Expr
		case *lang.Field:
			p.field = e
		}
		return
	}
}

// stepOf is the step block a place belongs to, or nil.
func (p place) stepOf() *lang.Block {
	if p.top != nil && p.top.Kind.Name == "step" {
		return p.top
	}
	return nil
}

// outputStep is the step whose output `output` names here: the enclosing
// step, or the step a test block tests.
func (p place) outputStep(x *index) *lang.Block {
	if s := p.stepOf(); s != nil {
		return s
	}
	if p.top != nil && p.top.Kind.Name == "test" {
		if sym, ok := x.defs[refName(attrValue(p.top, "step"))]; ok && sym.kind == "step" {
			return sym.block
		}
	}
	return nil
}

// itemSource is the source block whose items `item` holds here: the
// enclosing source, or the source the enclosing step (or the step a test
// tests) reads from, through the steps before it; nil if a from does not
// resolve to one.
func (p place) itemSource(x *index) *lang.Block {
	if p.top != nil && p.top.Kind.Name == "source" {
		return p.top
	}
	b := p.outputStep(x)
	for range len(x.list) + 1 { // a cycle of froms ends here
		if b == nil {
			return nil
		}
		sym, ok := x.defs[refName(attrValue(b, "from"))]
		if !ok {
			return nil
		}
		switch sym.kind {
		case "source":
			return sym.block
		case "step":
			b = sym.block
		default:
			return nil
		}
	}
	return nil
}

// sourceSchemaFields are the fields of the schema a source names with
// schema = NAME, or nil.
func sourceSchemaFields(x *index, src *lang.Block) []*lang.Field {
	s, ok := x.defs[refName(attrValue(src, "schema"))]
	if !ok || s.kind != "schema" || s.block.Body == nil {
		return nil
	}
	return fieldsOf(s.block.Body.Entries)
}

// csvColumns are the columns of a csv source's file, read from its header
// row as the checker reads them (paths relative to dir); nil when the
// source is not a csv or the file is not readable.
func csvColumns(src *lang.Block, dir string) []string {
	v := attrValue(src, "csv")
	if v == nil {
		return nil
	}
	lit, ok := v.Lit.(*lang.StringLit)
	if !ok || lit.Value == "" {
		return nil
	}
	path := lit.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	names, err := interp.CSVHeader(path)
	if err != nil {
		return nil
	}
	return names
}

// attrValue is the value of attribute name in block b, or nil.
func attrValue(b *lang.Block, name string) *lang.Value {
	if b == nil || b.Body == nil {
		return nil
	}
	for _, e := range b.Body.Entries {
		if a, ok := e.(*lang.Attribute); ok && a.Name.Name == name {
			return a.Value
		}
	}
	return nil
}

// refName is the first name of a reference value (`output = Person`).
func refName(v *lang.Value) string {
	if v == nil {
		return ""
	}
	if r, ok := v.Lit.(*lang.RefLit); ok && len(r.Parts) > 0 {
		return r.Parts[0].Name
	}
	return ""
}

// schemaFields are the fields of the schema a step outputs, or nil.
func schemaFields(x *index, step *lang.Block) []*lang.Field {
	s, ok := x.defs[refName(attrValue(step, "output"))]
	if !ok || s.kind != "schema" || s.block.Body == nil {
		return nil
	}
	return fieldsOf(s.block.Body.Entries)
}

func fieldsOf(entries []lang.Entry) []*lang.Field {
	var out []*lang.Field
	for _, e := range entries {
		if f, ok := e.(*lang.Field); ok {
			out = append(out, f)
		}
	}
	return out
}

// fieldPath resolves a path of field names through fields, following
// inline objects, lists and named schemas.
func fieldPath(x *index, fields []*lang.Field, path []string) *lang.Field {
	var cur *lang.Field
	for _, name := range path {
		cur = nil
		for _, f := range fields {
			if f.Name.Name == name {
				cur = f
			}
		}
		if cur == nil {
			return nil
		}
		fields = innerFields(x, cur.Type)
	}
	return cur
}

func innerFields(x *index, t *lang.TypeExpr) []*lang.Field {
	for t != nil && t.List != nil {
		t = t.List
	}
	if t == nil {
		return nil
	}
	if len(t.Fields) > 0 {
		return t.Fields
	}
	if t.Name != nil {
		if s, ok := x.defs[t.Name.Name]; ok && s.kind == "schema" && s.block.Body != nil {
			return fieldsOf(s.block.Body.Entries)
		}
	}
	return nil
}
