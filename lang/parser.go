package lang

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parse parses one .llmp file. It stops at the first syntax error and then
// returns exactly one diagnostic; the File it returns is never nil and holds
// the blocks completed before the error plus every comment of the file.
// Parse never panics, whatever the input. It is safe for concurrent use.
func Parse(filename string, src []byte) (f *File, diags Diagnostics) {
	f = &File{Name: filename, Src: src}
	s := string(src)
	p := &parser{name: filename, src: s, lines: newLineIndex(s)}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r) // a bug in the parser, not in the input
			}
			diags = Diagnostics{b.d}
		}
	}()
	if !utf8.ValidString(s) {
		off := invalidUTF8(s)
		p.fail(p.rng(off, off+1), "invalid UTF-8 encoding", ".llmp files must be UTF-8 text")
	}
	// Comments leave the token stream, which is filtered in place.
	toks := tokenize(s)
	p.toks = toks[:0]
	for _, t := range toks {
		if t.kind == tComment {
			f.Comments = append(f.Comments, &Comment{Range: p.rng(t.start, t.end), Text: t.text})
			continue
		}
		p.toks = append(p.toks, t)
	}
	p.file(f)
	return f, nil
}

func invalidUTF8(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(s)
}

// parser is a recursive-descent parser over the participle lexer's tokens.
// Comments are taken out of the stream up front: a comment always runs to a
// newline (or the end of the file), which ends a value anyway, and inside
// brackets it is simply part of the value's raw text.
type parser struct {
	name  string
	src   string
	lines *lineIndex
	toks  []token // no comments; ends with tEOF
	i     int
	// suspect is the first entry inside a body that starts at column 1,
	// a likely place for a missing "}" when a block is never closed.
	suspect *token
	// typeDepth counts the schema types being parsed inside each other.
	typeDepth int
}

// bailout carries the one syntax error out of the recursion.
type bailout struct{ d *Diagnostic }

func (p *parser) rng(start, end int) Range {
	return Range{File: p.name, Start: p.lines.pos(start), End: p.lines.pos(end)}
}

func (p *parser) tokRange(t token) Range { return p.rng(t.start, t.end) }

func (p *parser) fail(r Range, msg, help string, notes ...Note) {
	panic(bailout{&Diagnostic{Severity: SeverityError, Range: r, Message: msg, Help: help, Notes: notes}})
}

// expected reports that t is not what the grammar wants, unless t is itself
// malformed (an unterminated string, a bad number), which is the better error.
func (p *parser) expected(t token, msg, help string) {
	p.checkLex(t)
	p.fail(p.tokRange(t), msg+", found "+describe(t), help)
}

func (p *parser) peek() token { return p.toks[p.i] }

// next consumes one token after checking that it is well formed.
func (p *parser) next() token {
	t := p.toks[p.i]
	p.checkLex(t)
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// checkLex reports malformed tokens; the lexer accepts them so that the
// error can say exactly what is wrong where.
func (p *parser) checkLex(t token) {
	switch t.kind {
	case tStringOpen, tCharOpen, tRawOpen:
		p.fail(p.rng(t.start, t.end), "unterminated string",
			"close the string on the same line; use \"\"\" … \"\"\" for text over several lines")
	case tTripleOpen:
		p.fail(p.rng(t.start, t.end), "unterminated \"\"\" string", "close it with \"\"\" (the text may span lines)")
	case tDollar:
		p.fail(p.rng(t.start, t.end), "invalid money amount \"$\"", helpMoney)
	case tNumber:
		p.numberLit(t)
	case tMoney:
		p.moneyLit(t)
	case tString:
		p.stringLit(t)
	case tBad:
		p.fail(p.rng(t.start, t.end), fmt.Sprintf("unexpected character %q", t.text), "")
	}
}

func isPunct(t token, s string) bool { return t.kind == tPunct && t.text == s }

// describe names a token for "found …" in messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tNewline:
		return "end of line"
	case tString, tTriple, tRaw, tChar:
		s := t.text
		if utf8.RuneCountInString(s) > 24 {
			s = string([]rune(s)[:20]) + "…"
		}
		return "string " + s
	case tNumber:
		return fmt.Sprintf("number %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) ident(t token) Ident { return Ident{Name: t.text, Range: p.tokRange(t)} }

// file := { NEWLINE | block (NEWLINE | EOF) } EOF
func (p *parser) file(f *File) {
	for {
		t := p.peek()
		switch {
		case t.kind == tNewline:
			p.i++
			continue
		case t.kind == tEOF:
			return
		case isPunct(t, "}"):
			p.fail(p.tokRange(t), `unexpected "}"`, "there is no open block for it to close")
		case t.kind != tIdent:
			p.expected(t, "expected a block", "top-level entries are blocks: KIND NAME { … }, KIND { … } or KIND NAME = VALUE")
		}
		kt := p.next()
		var name *Ident
		if p.peek().kind == tIdent {
			n := p.ident(p.next())
			name = &n
		}
		f.Blocks = append(f.Blocks, p.blockRest(kt, name, true))
		p.endOfEntry(false, "the block")
	}
}

// blockRest parses what follows `KIND [NAME]`: a braced body or `= VALUE`.
func (p *parser) blockRest(kt token, name *Ident, top bool) *Block {
	b := &Block{Kind: p.ident(kt), Name: name}
	t := p.peek()
	switch {
	case isPunct(t, "{"):
		p.next()
		b.Body = p.body(t, kt.text == "schema", "block opened here")
		b.Range = p.rng(kt.start, b.Body.Range.End.Offset)
	case isPunct(t, "=") && name != nil:
		p.next()
		b.Value = p.value(t)
		b.Range = p.rng(kt.start, b.Value.Range.End.Offset)
	case isPunct(t, "=") && top:
		p.fail(p.tokRange(t), fmt.Sprintf("expected a block name before \"=\" after %q", kt.text),
			"attributes belong inside a block, e.g. config { workers = 16 }")
	case name == nil:
		p.expected(t, fmt.Sprintf("expected a block name or \"{\" after %q", kt.text), "blocks are written KIND NAME { … } or KIND { … }")
	default:
		p.expected(t, "expected \"{\" after block name", fmt.Sprintf("blocks are written %s %s { … }, with \"{\" on the same line", kt.text, name.Name))
	}
	return b
}

// endOfEntry requires the end of a line after an entry. Inside a body a "}"
// may also follow (it is left for the body loop).
func (p *parser) endOfEntry(inBody bool, what string) {
	t := p.peek()
	switch {
	case t.kind == tNewline:
		p.i++
	case t.kind == tEOF:
	case isPunct(t, "}") && inBody:
	case isPunct(t, "}"):
		p.fail(p.tokRange(t), `unexpected "}"`, "there is no open block for it to close")
	default:
		p.checkLex(t)
		p.fail(p.tokRange(t), "unexpected "+describe(t)+" after "+what, "start the next entry on a new line")
	}
}

// body := "{" { NEWLINE | entry (NEWLINE | before "}") } "}"
// In a schema (and an inline object type) the entries are fields.
func (p *parser) body(open token, fields bool, note string) *Body {
	b := &Body{}
	for {
		t := p.peek()
		switch {
		case t.kind == tNewline:
			p.i++
			continue
		case t.kind == tEOF:
			p.unclosed(open, note)
		case isPunct(t, "}"):
			p.i++
			b.Range = p.rng(open.start, t.end)
			return b
		}
		if p.suspect == nil && p.lines.pos(t.start).Col == 1 {
			p.suspect = &t
		}
		if fields {
			b.Entries = append(b.Entries, p.field())
			p.endOfEntry(true, "the field")
		} else {
			b.Entries = append(b.Entries, p.entry())
			p.endOfEntry(true, "the entry")
		}
	}
}

// unclosed reports a bracket still open at the end of the file. The error
// sits at the end of the text, the note at the opener.
func (p *parser) unclosed(open token, note string) {
	end := len(strings.TrimRight(p.src, " \t\r\n\f\v"))
	notes := []Note{{Range: p.tokRange(open), Message: note}}
	if s := p.suspect; s != nil && s.start > open.start {
		notes = append(notes, Note{Range: p.tokRange(*s), Message: "this line is not indented: is a \"}\" missing before it?"})
	}
	p.fail(p.rng(end, end), fmt.Sprintf("unclosed %q", open.text), fmt.Sprintf("add a matching %q", closerOf(open.text)), notes...)
}

func closerOf(s string) string {
	switch s {
	case "(":
		return ")"
	case "[":
		return "]"
	}
	return "}"
}

// entry := NAME "=" value | check | KIND [NAME] ("{" body "}" | "=" value)
func (p *parser) entry() Entry {
	t := p.peek()
	if t.kind != tIdent {
		p.expected(t, "expected an attribute, check or block", `entries are name = value, check "message": expression, or a nested block name { … }`)
	}
	nt := p.next()
	nx := p.peek()
	if nt.text == "check" && !isPunct(nx, "=") {
		return p.check(nt)
	}
	if nt.text == "expect" && p.expectAhead() {
		v := p.value(nt)
		return &Expect{Range: p.rng(nt.start, v.Range.End.Offset), Expr: v}
	}
	switch {
	case isPunct(nx, "="):
		p.next()
		v := p.value(nx)
		return &Attribute{Range: p.rng(nt.start, v.Range.End.Offset), Name: p.ident(nt), Value: v}
	case isPunct(nx, "{"):
		return p.blockRest(nt, nil, false)
	case nx.kind == tIdent:
		nn := p.next()
		if a := p.peek(); isPunct(a, "{") || isPunct(a, "=") {
			name := p.ident(nn)
			return p.blockRest(nt, &name, false)
		}
		help := fmt.Sprintf("write %s = %s", nt.text, nn.text)
		if a := p.peek(); a.kind == tNewline || a.kind == tString || isPunct(a, "?") {
			help += "; schema fields (name TYPE) belong in a schema block"
		}
		p.fail(p.tokRange(nn), fmt.Sprintf("expected \"=\" after attribute name %q, found %s", nt.text, describe(nn)), help)
	}
	p.expected(nx, fmt.Sprintf("expected \"=\" after attribute name %q", nt.text), "attributes are written name = value")
	return nil
}

// expectAhead reports whether the tokens after `expect` make an expect
// statement rather than an attribute or a nested block (`expect = …`,
// `expect {`, `expect NAME {`, `expect NAME = …`); an expression may start
// with a name, so one token of look-ahead is not enough.
func (p *parser) expectAhead() bool {
	nx := p.peek()
	if isPunct(nx, "=") || isPunct(nx, "{") {
		return false
	}
	if nx.kind == tIdent && p.i+1 < len(p.toks) {
		a := p.toks[p.i+1]
		return !isPunct(a, "{") && !isPunct(a, "=")
	}
	return true
}

// check := "check" [NAME] [STRING] ":" expression
func (p *parser) check(kw token) *Check {
	const help = `checks are written check [field] ["message"]: expression`
	c := &Check{}
	t := p.peek()
	if t.kind == tIdent {
		n := p.ident(p.next())
		c.Name = &n
		t = p.peek()
	}
	if !isPunct(t, ":") {
		if t.kind != tString && t.kind != tTriple {
			p.expected(t, `expected a message string or ":" in check`, help)
		}
		c.Message = p.strLit(p.next())
	}
	colon := p.peek()
	if !isPunct(colon, ":") {
		p.expected(colon, `expected ":" after the check message`, help)
	}
	p.next()
	c.Expr = p.value(colon)
	c.Range = p.rng(kw.start, c.Expr.Range.End.Offset)
	return c
}

func (p *parser) strLit(t token) *StringLit {
	if t.kind == tTriple {
		return p.tripleLit(t)
	}
	return p.stringLit(t)
}
