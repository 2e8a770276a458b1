package lsp

import (
	"fmt"
	"github.com/expr-lang/expr/builtin"
	"reflect"
	"strings"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/funcs"
)

func (s *Server) hover(_ *glsp.Context, p *protocol.HoverParams) (*protocol.Hover, error) {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	a := d.current(s.encoding())
	off := a.lines.offset(p.Position)
	text := hoverText(a, off)
	if text == "" {
		return nil, nil
	}
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: text}}, nil
}

// hoverText explains what is at off, or "".
func hoverText(a *analysis, off int) string {
	pl := placeAt(a.file, off)
	switch {
	case pl.onKind:
		if b := blockDoc(pl.block.Kind.Name); b != nil {
			return fmt.Sprintf("**%s** block: %s", b.Kind, b.Doc)
		}
	case pl.onAttrName:
		if ad := attrDoc(pl.block.Kind.Name, pl.attr); ad != nil {
			return attrHover(ad)
		}
	case pl.field != nil && within(pl.field.Name.Range, off):
		return fieldHover(a, pl.field)
	}
	if name, ok := a.index.at(off); ok {
		if sym := a.index.defs[name]; sym != nil {
			return symbolHover(a, sym)
		}
	}
	if pl.value == nil {
		return ""
	}
	if lit, ok := stringAt(pl.value, off); ok && (attrRole(pl.block.Kind.Name, pl.attr) == roleModels || pl.block.Kind.Name == "ladder" || pl.block.Kind.Name == "model" && pl.attr == "id") {
		return modelHover(lit)
	}
	word, _, _ := wordAt(a.text, off)
	if word == "" {
		return ""
	}
	return nameHover(a, pl, word)
}

// stringAt is the string literal of v (or of an element of its list) that
// holds off.
func stringAt(v *lang.Value, off int) (string, bool) {
	var find func(l lang.Literal) (string, bool)
	find = func(l lang.Literal) (string, bool) {
		switch l := l.(type) {
		case *lang.StringLit:
			if within(l.Range, off) {
				return l.Value, true
			}
		case *lang.ListLit:
			for _, e := range l.Elems {
				if e != nil {
					if s, ok := find(e.Lit); ok {
						return s, ok
					}
				}
			}
		}
		return "", false
	}
	return find(v.Lit)
}

func attrHover(ad *interp.AttrDoc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s)", ad.Name, ad.Type)
	if ad.Required {
		b.WriteString(", required")
	}
	if ad.Doc != "" {
		fmt.Fprintf(&b, "\n\n%s", ad.Doc)
	}
	if ad.Default != "" {
		fmt.Fprintf(&b, "\n\nDefault: %s", ad.Default)
	}
	return b.String()
}

func fieldHover(a *analysis, f *lang.Field) string {
	s := fmt.Sprintf("**%s** `%s`", f.Name.Name, typeText(a, f.Type))
	if f.Doc != nil && f.Doc.Value != "" {
		s += "\n\n" + f.Doc.Value
	}
	return s
}

// typeText is a schema type as written.
func typeText(a *analysis, t *lang.TypeExpr) string {
	if t == nil {
		return "?"
	}
	lo, hi := a.lines.byteOffset(t.Range.Start), a.lines.byteOffset(t.Range.End)
	return strings.Join(strings.Fields(a.text[lo:hi]), " ")
}

func symbolHover(a *analysis, sym *symbol) string {
	b := sym.block
	head := fmt.Sprintf("**%s %s**", sym.kind, sym.name)
	switch sym.kind {
	case "schema":
		var lines []string
		if b.Body != nil {
			for _, f := range fieldsOf(b.Body.Entries) {
				lines = append(lines, fmt.Sprintf("  %s %s", f.Name.Name, typeText(a, f.Type)))
			}
		}
		return head + "\n\n```\n{\n" + strings.Join(lines, "\n") + "\n}\n```"
	case "ladder":
		if b.Value != nil {
			return head + "\n\n`" + b.Value.Raw + "`"
		}
	case "model":
		if v := attrValue(b, "id"); v != nil {
			if sl, ok := v.Lit.(*lang.StringLit); ok {
				return head + "\n\n" + modelHover(sl.Value)
			}
		}
	case "step":
		var parts []string
		for _, attr := range []string{"from", "models", "output"} {
			if v := attrValue(b, attr); v != nil {
				parts = append(parts, fmt.Sprintf("%s = `%s`", attr, v.Raw))
			}
		}
		return head + "\n\n" + strings.Join(parts, "  \n")
	}
	if d := blockDoc(sym.kind); d != nil {
		return head + "\n\n" + d.Doc
	}
	return head
}

// modelHover shows a model's prices and default-tier quota from the catalog.
func modelHover(id string) string {
	m, ok := catalog.Lookup(id)
	if !ok {
		return fmt.Sprintf("`%s`: not in the built-in catalog; give prices and limits in a model block", id)
	}
	l := m.Limits(catalog.DefaultTier)
	s := fmt.Sprintf("`%s`\n\nPrice per 1M tokens: input $%g, output $%g, cached $%g", m.ID, m.Price.InputPerM, m.Price.OutputPerM, m.Price.CachedPerM)
	if m.LongPrice != nil {
		s += fmt.Sprintf(" (above %d prompt tokens: input $%g, output $%g)", m.LongAbove, m.LongPrice.InputPerM, m.LongPrice.OutputPerM)
	}
	s += fmt.Sprintf("\n\nTier %d quota: %d RPM, %d TPM, %d RPD", catalog.DefaultTier, l.RPM, l.TPM, l.RPD)
	if m.Caching {
		s += fmt.Sprintf("\n\nExplicit caching from %d tokens", m.MinCacheTokens)
	}
	return s
}

// varDocs explain the names expressions and templates see.
var varDocs = map[string]string{
	interp.VarID:       "`id` string: the item's id",
	interp.VarItem:     "`item` map: the source record",
	interp.VarOutput:   "`output`: this step's parsed reply (checks only)",
	interp.VarText:     "`text` string: this step's raw reply (checks only)",
	interp.VarFailed:   "`failed` [{field, message}]: what failed (feedback only)",
	interp.VarPassed:   "`passed` [string]: the fields that passed (feedback only)",
	interp.VarPrevious: "`previous` string: the last raw reply (feedback only)",
	interp.VarAttempt:  "`attempt` int: the coming attempt's number, from 1 (feedback only)",
	interp.VarModel:    "`model` string: the coming attempt's model id (feedback only)",
	"record":           "`record` map: the test's final record",
	"models":           "`models` [string]: model ids in attempt order (tests)",
	"failed_fields":    "`failed_fields` [string]: each failure's field, in attempt order (tests)",
	"feedback":         "`feedback` [string]: the feedback texts sent, in order (tests)",
	"attempts":         "`attempts` [{model, reply, failed, feedback}] (tests)",
	"cost":             "`cost` float: what the test's attempts would have cost (tests)",
}

// nameHover explains a dotted name inside an expression or template.
func nameHover(a *analysis, pl place, word string) string {
	parts := strings.Split(word, ".")
	head := parts[0]
	if step := pl.outputStep(a.index); head == interp.VarOutput && step != nil {
		fields := schemaFields(a.index, step)
		if len(parts) == 1 {
			return fmt.Sprintf("`output`: `%s`", refName(attrValue(step, "output")))
		}
		if f := fieldPath(a.index, fields, parts[1:]); f != nil {
			return fieldHover(a, f)
		}
	}
	if head == interp.VarItem && len(parts) > 1 {
		if src := pl.itemSource(a.index); src != nil {
			if f := fieldPath(a.index, sourceSchemaFields(a.index, src), parts[1:]); f != nil {
				return fieldHover(a, f)
			}
		}
		return fmt.Sprintf("`%s`: a field of the source record", word)
	}
	if sym, ok := a.index.defs[head]; ok && sym.kind == "step" {
		if len(parts) == 1 {
			return symbolHover(a, sym)
		}
		if f := fieldPath(a.index, schemaFields(a.index, sym.block), parts[1:]); f != nil {
			return fieldHover(a, f)
		}
	}
	if len(parts) == 1 {
		if d, ok := varDocs[head]; ok {
			return d
		}
		if fn := funcByName(head); fn != nil {
			return funcHover(fn)
		}
		for _, fn := range builtin.Builtins {
			if fn.Name == head {
				return fmt.Sprintf("`%s`: an expr-lang built-in function", head)
			}
		}
	}
	return ""
}

func funcByName(name string) *interp.Func {
	for _, fn := range funcs.All() {
		if fn.Name == name {
			return fn
		}
	}
	return nil
}

// funcHover shows a built-in's signatures and summary.
func funcHover(fn *interp.Func) string {
	var sigs []string
	for _, t := range fn.Types {
		rt := reflect.TypeOf(t)
		if rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		sigs = append(sigs, fn.Name+strings.TrimPrefix(rt.String(), "func"))
	}
	s := "```\n" + strings.Join(sigs, "\n") + "\n```\n\n" + fn.Summary
	if fn.Example != "" {
		s += "\n\nExample: `" + fn.Example + "`"
	}
	return s
}
