package lsp

import (
	"sort"
	"strings"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/llmpipe/llmpipe/lang"
)

// The semantic token legend: editors without the TextMate grammar colour
// the file from these.
var (
	tokenTypes     = []string{"keyword", "type", "function", "variable", "property", "string", "number", "operator", "comment", "macro"}
	tokenModifiers = []string{"declaration"}
)

const (
	ttKeyword = iota
	ttType
	ttFunction
	ttVariable
	ttProperty
	ttString
	ttNumber
	ttOperator
	ttComment
	ttMacro
)

const modDeclaration = 1

type semTok struct {
	start, end int // byte offsets
	typ, mods  int
}

func (s *Server) semanticTokens(_ *glsp.Context, p *protocol.SemanticTokensParams) (*protocol.SemanticTokens, error) {
	d, err := s.doc(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	a := d.current(s.encoding())
	return &protocol.SemanticTokens{Data: encodeTokens(a.lines, collectTokens(a))}, nil
}

// collectTokens walks the tree; a file that does not parse gets none (the
// TextMate grammar, where there is one, still colours it).
func collectTokens(a *analysis) []semTok {
	if a.file == nil {
		return nil
	}
	var out []semTok
	for _, c := range a.file.Comments {
		out = append(out, semTok{start: a.lines.byteOffset(c.Range.Start), end: a.lines.byteOffset(c.Range.End), typ: ttComment})
	}
	for _, b := range a.file.Blocks {
		out = blockTokens(a, b, out)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	// Drop overlaps (a comment the scanner also saw, say): first one wins.
	kept := out[:0]
	last := -1
	for _, t := range out {
		if t.start >= last && t.end > t.start {
			kept = append(kept, t)
			last = t.end
		}
	}
	return kept
}

func (a *analysis) span(r lang.Range) (int, int) {
	return a.lines.byteOffset(r.Start), a.lines.byteOffset(r.End)
}

func blockTokens(a *analysis, b *lang.Block, out []semTok) []semTok {
	lo, hi := a.span(b.Kind.Range)
	out = append(out, semTok{start: lo, end: hi, typ: ttKeyword})
	if b.Name != nil {
		typ := ttVariable
		switch b.Kind.Name {
		case "schema":
			typ = ttType
		case "step", "test":
			typ = ttFunction
		}
		lo, hi := a.span(b.Name.Range)
		out = append(out, semTok{start: lo, end: hi, typ: typ, mods: modDeclaration})
	}
	if b.Value != nil {
		out = valueTokens(a, b.Value, roleModels, out)
	}
	if b.Body == nil {
		return out
	}
	for _, e := range b.Body.Entries {
		switch e := e.(type) {
		case *lang.Block:
			out = blockTokens(a, e, out)
		case *lang.Attribute:
			lo, hi := a.span(e.Name.Range)
			out = append(out, semTok{start: lo, end: hi, typ: ttProperty})
			out = valueTokens(a, e.Value, attrRole(b.Kind.Name, e.Name.Name), out)
		case *lang.Check:
			lo, _ := a.span(e.Range)
			word := a.text[lo:]
			n := len(word) - len(strings.TrimLeft(word, "abcdefghijklmnopqrstuvwxyz"))
			out = append(out, semTok{start: lo, end: lo + n, typ: ttKeyword})
			if e.Name != nil {
				lo, hi := a.span(e.Name.Range)
				out = append(out, semTok{start: lo, end: hi, typ: ttProperty})
			}
			if e.Message != nil {
				lo, hi := a.span(e.Message.Range)
				out = append(out, semTok{start: lo, end: hi, typ: ttString})
			}
			out = valueTokens(a, e.Expr, roleExpr, out)
		case *lang.Expect:
			lo, _ := a.span(e.Range)
			out = append(out, semTok{start: lo, end: lo + len("expect"), typ: ttKeyword})
			out = valueTokens(a, e.Expr, roleExpr, out)
		case *lang.Field:
			out = fieldTokens(a, e, out)
		}
	}
	return out
}

func fieldTokens(a *analysis, f *lang.Field, out []semTok) []semTok {
	lo, hi := a.span(f.Name.Range)
	out = append(out, semTok{start: lo, end: hi, typ: ttProperty, mods: modDeclaration})
	out = typeTokens(a, f.Type, out)
	if f.Doc != nil {
		lo, hi := a.span(f.Doc.Range)
		out = append(out, semTok{start: lo, end: hi, typ: ttString})
	}
	return out
}

func typeTokens(a *analysis, t *lang.TypeExpr, out []semTok) []semTok {
	if t == nil {
		return out
	}
	if t.Name != nil {
		lo, hi := a.span(t.Name.Range)
		out = append(out, semTok{start: lo, end: hi, typ: ttType})
	}
	for _, e := range t.Enum {
		lo, hi := a.span(e.Range)
		out = append(out, semTok{start: lo, end: hi, typ: ttString})
	}
	out = typeTokens(a, t.List, out)
	for _, f := range t.Fields {
		out = fieldTokens(a, f, out)
	}
	return out
}

func valueTokens(a *analysis, v *lang.Value, r role, out []semTok) []semTok {
	if v == nil {
		return out
	}
	lo, hi := a.span(v.Range)
	toks := scanValue(a.text, lo, hi, r == roleTemplate)
	for i, t := range toks {
		typ := ttVariable
		switch t.kind {
		case tokNumber:
			typ = ttNumber
		case tokString:
			typ = ttString
		case tokOp:
			typ = ttOperator
		case tokKeyword:
			typ = ttKeyword
		case tokHole:
			typ = ttMacro
		case tokName:
			switch {
			case t.afterDot:
				typ = ttProperty
			case i+1 < len(toks) && toks[i+1].kind == tokOp && a.text[toks[i+1].start] == '(':
				typ = ttFunction
			}
		}
		out = append(out, semTok{start: t.start, end: t.end, typ: typ})
	}
	return out
}

// encodeTokens turns tokens into the protocol's relative encoding, splitting
// a token that spans lines (a """ string) into one per line.
func encodeTokens(l *lines, toks []semTok) []protocol.UInteger {
	data := []protocol.UInteger{}
	var prevLine, prevChar protocol.UInteger
	emit := func(lo, hi, typ, mods int) {
		start, end := l.position(lo), l.position(hi)
		if end.Line != start.Line || end.Character <= start.Character {
			return
		}
		dl := start.Line - prevLine
		dc := start.Character
		if dl == 0 {
			dc -= prevChar
		}
		data = append(data, dl, dc, end.Character-start.Character, protocol.UInteger(typ), protocol.UInteger(mods))
		prevLine, prevChar = start.Line, start.Character
	}
	for _, t := range toks {
		lo := t.start
		for lo < t.end {
			nl := strings.IndexByte(l.text[lo:t.end], '\n')
			if nl < 0 {
				emit(lo, t.end, t.typ, t.mods)
				break
			}
			emit(lo, lo+nl, t.typ, t.mods)
			lo += nl + 1
		}
	}
	return data
}
