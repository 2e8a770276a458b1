package lsp

import (
	"strings"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/lang"
)

// symbolAt is the block name defined or used at a protocol position.
func (s *Server) symbolAt(p protocol.TextDocumentPositionParams) (*document, *analysis, *symbol) {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return nil, nil, nil
	}
	a := d.current(s.encoding())
	off := a.lines.offset(p.Position)
	name, ok := a.index.at(off)
	if !ok {
		return d, a, nil
	}
	return d, a, a.index.defs[name]
}

func (s *Server) definition(_ *glsp.Context, p *protocol.DefinitionParams) (any, error) {
	d, a, sym := s.symbolAt(p.TextDocumentPositionParams)
	if sym == nil {
		return nil, nil
	}
	return protocol.Location{URI: d.uri, Range: a.lines.rangeOf(sym.block.Name.Range)}, nil
}

func (s *Server) references(_ *glsp.Context, p *protocol.ReferenceParams) ([]protocol.Location, error) {
	d, a, sym := s.symbolAt(p.TextDocumentPositionParams)
	if sym == nil {
		return nil, nil
	}
	var out []protocol.Location
	if p.Context.IncludeDeclaration {
		out = append(out, protocol.Location{URI: d.uri, Range: a.lines.rangeOf(sym.block.Name.Range)})
	}
	for _, r := range a.index.refsTo(sym.name) {
		out = append(out, protocol.Location{URI: d.uri, Range: a.lines.rangeOf(r.rng)})
	}
	return out, nil
}

// formatting returns the canonical text as one edit; a file that does not
// parse is left alone (its error is already a diagnostic).
func (s *Server) formatting(_ *glsp.Context, p *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	a := d.current(s.encoding())
	if a.file == nil {
		return nil, nil
	}
	out := string(lang.Format(a.file))
	if out == a.text {
		return []protocol.TextEdit{}, nil
	}
	whole := protocol.Range{Start: protocol.Position{}, End: a.lines.position(len(a.text))}
	return []protocol.TextEdit{{Range: whole, NewText: out}}, nil
}

var symbolKinds = map[string]protocol.SymbolKind{
	"source": protocol.SymbolKindFile, "schema": protocol.SymbolKindStruct, "model": protocol.SymbolKindObject,
	"ladder": protocol.SymbolKindArray, "cache": protocol.SymbolKindConstant, "step": protocol.SymbolKindFunction,
	"sink": protocol.SymbolKindFile, "config": protocol.SymbolKindNamespace, "test": protocol.SymbolKindMethod,
	"retry": protocol.SymbolKindNamespace,
}

// documentSymbols lists the blocks, with nested blocks and schema fields as
// children, for outline views.
func (s *Server) documentSymbols(_ *glsp.Context, p *protocol.DocumentSymbolParams) (any, error) {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	a := d.current(s.encoding())
	f := d.fileForCompletion(a)
	if f == nil {
		return []protocol.DocumentSymbol{}, nil
	}
	if a.file == nil {
		a = analyze(d.path, string(f.Src), s.encoding()) // ranges must match the tree
	}
	out := []protocol.DocumentSymbol{}
	for _, b := range f.Blocks {
		out = append(out, blockSymbol(a.lines, b))
	}
	return out, nil
}

func blockSymbol(l *lines, b *lang.Block) protocol.DocumentSymbol {
	name, sel := b.Kind.Name, b.Kind.Range
	if b.Name != nil {
		name, sel = b.Name.Name, b.Name.Range
	}
	kind, ok := symbolKinds[b.Kind.Name]
	if !ok {
		kind = protocol.SymbolKindObject
	}
	detail := b.Kind.Name
	ds := protocol.DocumentSymbol{Name: name, Detail: &detail, Kind: kind, Range: l.rangeOf(b.Range), SelectionRange: l.rangeOf(sel)}
	if b.Body != nil {
		for _, e := range b.Body.Entries {
			switch e := e.(type) {
			case *lang.Block:
				ds.Children = append(ds.Children, blockSymbol(l, e))
			case *lang.Field:
				typ := strings.TrimSpace(string(l.text[l.byteOffset(e.Type.Range.Start):l.byteOffset(e.Type.Range.End)]))
				ds.Children = append(ds.Children, protocol.DocumentSymbol{
					Name: e.Name.Name, Detail: &typ, Kind: protocol.SymbolKindField,
					Range: l.rangeOf(e.Range), SelectionRange: l.rangeOf(e.Name.Range),
				})
			}
		}
	}
	return ds
}

// codeActions offers each did-you-mean in range as a quick fix.
func (s *Server) codeActions(_ *glsp.Context, p *protocol.CodeActionParams) (any, error) {
	out := []protocol.CodeAction{}
	for _, diag := range p.Context.Diagnostics {
		m, ok := diag.Data.(map[string]any)
		if !ok {
			continue
		}
		fix, ok := m["replace"].(string)
		if !ok {
			continue
		}
		kind := protocol.CodeActionKindQuickFix
		preferred := true
		out = append(out, protocol.CodeAction{
			Title:       "Change to " + quoteFix(fix),
			Kind:        &kind,
			Diagnostics: []protocol.Diagnostic{diag},
			IsPreferred: &preferred,
			Edit: &protocol.WorkspaceEdit{Changes: map[protocol.DocumentUri][]protocol.TextEdit{
				p.TextDocument.URI: {{Range: diag.Range, NewText: replacementFor(s, p.TextDocument.URI, diag.Range, fix)}},
			}},
		})
	}
	return out, nil
}

func quoteFix(s string) string { return "\"" + s + "\"" }

// replacementFor keeps the quotes of a quoted name: a misspelt model id in
// "…" is replaced by the id in quotes.
func replacementFor(s *Server, uri protocol.DocumentUri, r protocol.Range, fix string) string {
	d, err := s.doc(uri)
	if err != nil {
		return fix
	}
	a := d.current(s.encoding())
	lo, hi := a.lines.offset(r.Start), a.lines.offset(r.End)
	if hi-lo >= 2 && a.text[lo] == '"' && a.text[hi-1] == '"' {
		return quoteFix(fix)
	}
	return fix
}
