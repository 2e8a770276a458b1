package lsp

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/builtin"
	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/funcs"
)

func (s *Server) completion(_ *glsp.Context, p *protocol.CompletionParams) (any, error) {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	a := d.current(s.encoding())
	off := a.lines.offset(p.Position)
	items := complete(a, d.fileForCompletion(a), off)
	if items == nil {
		items = []protocol.CompletionItem{}
	}
	return protocol.CompletionList{IsIncomplete: false, Items: items}, nil
}

// complete lists what fits at off. The present text says what is being
// typed; the tree (the present one, or the last that parsed) says where.
func complete(a *analysis, f *lang.File, off int) []protocol.CompletionItem {
	x := a.index
	if a.file == nil && f != nil {
		x = buildIndex(f, string(f.Src))
	}
	lineStart := strings.LastIndexByte(a.text[:off], '\n') + 1
	before := a.text[lineStart:off]
	_, _, typed := wordAt(a.text, off)
	// The blocks open at the cursor, read from the present text: mid-edit
	// the last good tree's ranges no longer match it.
	open := openBlocks(a.text, off)
	var pl place
	if a.file != nil {
		pl = placeAt(a.file, off)
	} else {
		pl.attr = lineAttr(before)
	}
	blockKind := ""
	if len(open) > 0 {
		blockKind = open[len(open)-1].kind
		if sym := x.defs[open[0].name]; sym != nil && sym.kind == open[0].kind {
			pl.top = sym.block
		}
	}

	// At the start of a line (only a name typed so far): a block kind or an
	// attribute of the enclosing block.
	if strings.TrimSpace(before) == typed && !strings.Contains(typed, ".") {
		if len(open) == 0 {
			return kindItems(topLevelKinds())
		}
		return bodyItems(blockKind)
	}

	// After "NAME." in an expression or template: the fields of what NAME is.
	if i := strings.LastIndexByte(typed, '.'); i >= 0 {
		dir := ""
		if f != nil {
			dir = filepath.Dir(f.Name)
		}
		return dotItems(x, pl, strings.Split(typed[:i], "."), dir)
	}

	// In a value: by what the attribute names.
	attr := pl.attr
	if attr == "" {
		attr = lineAttr(before)
	}
	switch {
	case blockKind == "ladder" || attrRole(blockKind, attr) == roleModels || blockKind == "model" && attr == "id":
		return modelItems(x, blockKind == "model")
	case attr == "from":
		return symbolItems(x, "source", "step")
	case attr == "output" || blockKind == "source" && attr == "schema":
		return symbolItems(x, "schema")
	case attr == "cache":
		return symbolItems(x, "cache")
	case attrRole(blockKind, attr) == roleExpr || attrRole(blockKind, attr) == roleTemplate:
		return scopeItems(x, pl, scopeOf(blockKind, attr))
	}
	return nil
}

// lineAttr is the attribute whose value is being typed on this line ("name
// = …", or "check" for a check line), for text the tree does not have yet.
func lineAttr(line string) string {
	if w := strings.Fields(line); len(w) > 0 && (w[0] == "check" || w[0] == "expect") {
		return w[0]
	}
	name, _, ok := strings.Cut(line, "=")
	if !ok || strings.ContainsAny(name, "\"{}") {
		return ""
	}
	return strings.TrimSpace(name)
}

// openBlock is a block whose "{" is open at some offset.
type openBlock struct{ kind, name string }

// openBlocks lists the blocks open at off, outermost first, from the text
// alone: a block opens with "KIND [NAME] {" and closes at its "}"; braces
// in strings, comments and expressions' own brackets are skipped.
func openBlocks(text string, off int) []openBlock {
	var stack []openBlock
	for i := 0; i < off; i++ {
		switch c := text[i]; c {
		case '"', '\'', '`':
			i = stringEnd(text, i, off) - 1
		case '#':
			for i < off && text[i] != '\n' {
				i++
			}
		case '{':
			lineStart := strings.LastIndexByte(text[:i], '\n') + 1
			words := strings.Fields(text[lineStart:i])
			b := openBlock{}
			if len(words) > 0 && !strings.Contains(text[lineStart:i], "=") {
				b.kind = words[0]
				if len(words) > 1 {
					b.name = words[1]
				}
			}
			stack = append(stack, b)
		case '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return stack
}

func topLevelKinds() []string {
	loadSpecs()
	return append(append([]string(nil), topKinds...), "test")
}

func kindItems(kinds []string) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	for _, k := range kinds {
		item := protocol.CompletionItem{Label: k, Kind: ptr(protocol.CompletionItemKindKeyword)}
		if d := blockDoc(k); d != nil {
			item.Detail = &d.Doc
		}
		out = append(out, item)
	}
	return out
}

// bodyItems are the attributes, nested blocks and check of a block kind.
func bodyItems(kind string) []protocol.CompletionItem {
	d := blockDoc(kind)
	if d == nil {
		return nil
	}
	var out []protocol.CompletionItem
	for _, at := range d.Attrs {
		detail := at.Type
		if at.Doc != "" {
			detail += ": " + at.Doc
		}
		out = append(out, protocol.CompletionItem{Label: at.Name, Kind: ptr(protocol.CompletionItemKindProperty),
			Detail: &detail, InsertText: ptr(at.Name + " = ")})
	}
	out = append(out, kindItems(d.Blocks)...)
	if d.Checks {
		out = append(out, protocol.CompletionItem{Label: "check", Kind: ptr(protocol.CompletionItemKindKeyword)})
	}
	return out
}

// dotItems are the fields of the value a dotted path names: an output's
// by its schema, an item's by its source's schema or csv header (read
// relative to dir).
func dotItems(x *index, pl place, path []string, dir string) []protocol.CompletionItem {
	var fields []*lang.Field
	switch head := path[0]; {
	case head == interp.VarOutput && pl.outputStep(x) != nil:
		fields = schemaFields(x, pl.outputStep(x))
	case head == interp.VarItem && pl.itemSource(x) != nil:
		src := pl.itemSource(x)
		fields = sourceSchemaFields(x, src)
		if fields == nil && len(path) == 1 {
			return columnItems(csvColumns(src, dir))
		}
	case x.defs[head] != nil && x.defs[head].kind == "step":
		fields = schemaFields(x, x.defs[head].block)
	default:
		return nil
	}
	if len(path) > 1 {
		f := fieldPath(x, fields, path[1:])
		if f == nil {
			return nil
		}
		fields = innerFields(x, f.Type)
	}
	var out []protocol.CompletionItem
	for _, f := range fields {
		item := protocol.CompletionItem{Label: f.Name.Name, Kind: ptr(protocol.CompletionItemKindField)}
		if f.Doc != nil {
			item.Documentation = f.Doc.Value
		}
		out = append(out, item)
	}
	return out
}

// columnItems offer a csv source's columns after "item.".
func columnItems(cols []string) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	for i, c := range cols {
		detail := "string: column " + strconv.Itoa(i+1) + " of the csv"
		out = append(out, protocol.CompletionItem{Label: c, Kind: ptr(protocol.CompletionItemKindField), Detail: &detail})
	}
	return out
}

// modelItems are model ids from the catalog and the file's ladders and
// model blocks (only ids inside a model block's id).
func modelItems(x *index, idsOnly bool) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	if !idsOnly {
		out = symbolItems(x, "ladder", "model")
	}
	ids := catalog.IDs()
	sort.Strings(ids)
	for _, id := range ids {
		item := protocol.CompletionItem{Label: id, Kind: ptr(protocol.CompletionItemKindValue)}
		if m, ok := catalog.Lookup(id); ok {
			detail := "input $" + trimFloat(m.Price.InputPerM) + " / output $" + trimFloat(m.Price.OutputPerM) + " per 1M tokens"
			item.Detail = &detail
		}
		out = append(out, item)
	}
	return out
}

func symbolItems(x *index, kinds ...string) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	for _, s := range x.list {
		for _, k := range kinds {
			if s.kind == k {
				detail := s.kind
				out = append(out, protocol.CompletionItem{Label: s.name, Kind: ptr(protocol.CompletionItemKindReference), Detail: &detail})
			}
		}
	}
	return out
}

// scopeItems are the names an expression or template sees here: variables,
// earlier steps and functions.
func scopeItems(x *index, pl place, sc interp.Scope) []protocol.CompletionItem {
	var out []protocol.CompletionItem
	for _, v := range interp.ScopeVars(sc) {
		item := protocol.CompletionItem{Label: v, Kind: ptr(protocol.CompletionItemKindVariable)}
		if d, ok := varDocs[v]; ok {
			item.Detail = &d
		}
		out = append(out, item)
	}
	if sc != interp.ScopeSource {
		for _, s := range x.list {
			if s.kind == "step" && (pl.top == nil || s.block != pl.top) {
				out = append(out, protocol.CompletionItem{Label: s.name, Kind: ptr(protocol.CompletionItemKindVariable), Detail: ptr("earlier step")})
			}
		}
	}
	for _, fn := range funcs.All() {
		summary := fn.Summary
		out = append(out, protocol.CompletionItem{Label: fn.Name, Kind: ptr(protocol.CompletionItemKindFunction), Detail: &summary})
	}
	for _, fn := range builtin.Builtins {
		if isIdent(fn.Name) {
			out = append(out, protocol.CompletionItem{Label: fn.Name, Kind: ptr(protocol.CompletionItemKindFunction), Detail: ptr("expr-lang built-in")})
		}
	}
	return out
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i], false) {
			return false
		}
	}
	return s != ""
}
