package lang

import "fmt"

// value scans the right-hand side after `=` (or a check's `:`): every token
// up to the end of the line, a comment, or a "}" that closes the enclosing
// block, with newlines allowed while a bracket is open. It then tries to read
// the tokens as one literal.
func (p *parser) value(after token) *Value {
	first := p.i
	var stack []token
	for {
		t := p.peek()
		if len(stack) == 0 && t.kind == tNewline && p.i > first && continuesLine(p.toks[p.i-1]) {
			// A line ending in a binary operator goes on on the next line.
			p.i++
			continue
		}
		if len(stack) == 0 && (t.kind == tNewline || t.kind == tEOF || isPunct(t, "}")) {
			break
		}
		if t.kind == tEOF {
			open := stack[len(stack)-1]
			p.unclosed(open, fmt.Sprintf("%q opened here", open.text))
		}
		if t.kind == tPunct {
			switch t.text {
			case "(", "[", "{":
				if len(stack) >= MaxNesting {
					p.fail(p.tokRange(t), fmt.Sprintf("brackets nest more than %d deep", MaxNesting),
						"split the expression, or name its parts with let")
				}
				stack = append(stack, t)
			case ")", "]", "}":
				if len(stack) == 0 {
					p.fail(p.tokRange(t), fmt.Sprintf("unexpected %q", t.text), "there is no open bracket for it to close")
				}
				open := stack[len(stack)-1]
				if want := closerOf(open.text); want != t.text {
					p.fail(p.tokRange(t), fmt.Sprintf("expected %q to close %q, found %q", want, open.text, t.text), "",
						Note{Range: p.tokRange(open), Message: fmt.Sprintf("%q opened here", open.text)})
				}
				stack = stack[:len(stack)-1]
			}
		}
		p.next()
	}
	var ts []token
	for _, t := range p.toks[first:p.i] {
		if t.kind != tNewline {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		what := "a value"
		if isPunct(after, ":") || after.kind == tIdent {
			what = "an expression"
		}
		p.fail(p.rng(after.end, after.end), fmt.Sprintf("expected %s after %q", what, after.text),
			fmt.Sprintf("write the value on the same line as %q", after.text))
	}
	if last := ts[len(ts)-1]; len(ts) > 1 && (last.kind == tPunct && binaryOps[last.text] || last.kind == tIdent && wordOps[last.text]) {
		help := "a value ends at the end of its line; a line that ends in an operator such as && goes on on the next"
		if continuesLine(last) {
			help = "the expression goes on after " + fmt.Sprintf("%q", last.text) + ", but nothing follows it"
		}
		p.fail(p.tokRange(last), fmt.Sprintf("the value ends with %q", last.text), help)
	}
	v := p.valueOf(ts, nil)
	lit, n := p.literal(ts, 0)
	switch {
	case lit != nil && n == len(ts):
		v.Lit = lit
	case lit != nil && strayAfter(lit, ts[n]):
		p.fail(p.tokRange(ts[n]), "unexpected "+describe(ts[n])+" after the value",
			"write one attribute per line; an expression needs an operator between operands")
	}
	return v
}

func (p *parser) valueOf(ts []token, lit Literal) *Value {
	start, end := ts[0].start, ts[len(ts)-1].end
	return &Value{Range: p.rng(start, end), Raw: p.src[start:end], Lit: lit}
}

// binaryOps cannot end an expression: a line ending in one was most likely
// meant to continue.
var binaryOps = map[string]bool{
	"&&": true, "||": true, "+": true, "-": true, "*": true, "/": true, "%": true, "**": true, "^": true,
	"==": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true, "??": true, "..": true,
	".": true, "?.": true, "?": true, ":": true, "|": true, ",": true, "=": true,
}

// MaxNesting is how deep brackets may nest in one value or template hole:
// far beyond any real expression, and low enough that no parser after
// this one (expr's is recursive) runs out of stack.
const MaxNesting = 100

// continuesLine reports whether a line ending in t goes on on the next
// line: t is a binary operator (all but "," "=" ":" and member access),
// the ternary "?", or a word operator, all of which need an operand after.
func continuesLine(t token) bool {
	switch t.kind {
	case tPunct:
		switch t.text {
		case ",", "=", ":", ".", "?.":
			return false
		}
		return binaryOps[t.text]
	case tIdent:
		return wordOps[t.text]
	}
	return false
}

// exprWords are expr-lang keywords: a value that starts with one is an
// expression, and a word operator may follow any operand.
var exprWords = map[string]bool{
	"let": true, "if": true, "else": true, "not": true, "in": true, "and": true, "or": true,
	"contains": true, "matches": true, "startsWith": true, "endsWith": true,
	"true": true, "false": true, "nil": true,
}

// wordOps are the expr-lang keywords that need an operand after them.
var wordOps = map[string]bool{
	"let": true, "if": true, "else": true, "not": true, "in": true, "and": true, "or": true,
	"contains": true, "matches": true, "startsWith": true, "endsWith": true,
}

// strayAfter reports whether next cannot continue an expression that begins
// with the literal lit: two operands side by side never form an expr-lang
// expression, so `workers = 16 budget` is a stray token, not an expression.
func strayAfter(lit Literal, next token) bool {
	if r, ok := lit.(*RefLit); ok && len(r.Parts) == 1 && exprWords[r.Parts[0].Name] {
		return false
	}
	switch next.kind {
	case tString, tTriple, tNumber, tMoney, tRaw, tChar, tDollarIdent:
		return true
	case tIdent:
		return !wordOps[next.text]
	}
	return false
}

// literal reads one literal (possibly a range LO .. HI) from ts[i:] and
// returns it with the index after it, or nil and i.
func (p *parser) literal(ts []token, i int) (Literal, int) {
	lo, j := p.simpleLit(ts, i)
	if lo == nil {
		return nil, i
	}
	if j < len(ts) && isPunct(ts[j], "..") {
		if hi, k := p.simpleLit(ts, j+1); hi != nil {
			return &RangeLit{
				Range: p.rng(ts[i].start, ts[k-1].end),
				Lo:    p.valueOf(ts[i:j], lo),
				Hi:    p.valueOf(ts[j+1:k], hi),
			}, k
		}
	}
	return lo, j
}

func (p *parser) simpleLit(ts []token, i int) (Literal, int) {
	if i >= len(ts) {
		return nil, i
	}
	t := ts[i]
	switch t.kind {
	case tString:
		return p.stringLit(t), i + 1
	case tTriple:
		return p.tripleLit(t), i + 1
	case tNumber:
		return p.numberLit(t), i + 1
	case tMoney:
		return p.moneyLit(t), i + 1
	case tIdent:
		r := &RefLit{Parts: []Ident{p.ident(t)}}
		j := i + 1
		for j+1 < len(ts) && isPunct(ts[j], ".") && ts[j+1].kind == tIdent {
			r.Parts = append(r.Parts, p.ident(ts[j+1]))
			j += 2
		}
		r.Range = p.rng(t.start, ts[j-1].end)
		return r, j
	case tPunct:
		switch {
		case t.text == "-" && i+1 < len(ts) && ts[i+1].kind == tNumber && ts[i+1].start == t.end:
			return p.negative(t, ts[i+1]), i + 2
		case t.text == "[":
			return p.listLit(ts, i)
		}
	}
	return nil, i
}

// negative is -NUMBER or -DURATION written without a space.
func (p *parser) negative(minus, num token) Literal {
	r := p.rng(minus.start, num.end)
	switch l := p.numberLit(num).(type) {
	case *NumberLit:
		return &NumberLit{Range: r, Text: "-" + l.Text, IsInt: l.IsInt, Int: -l.Int, Float: -l.Float}
	case *DurationLit:
		return &DurationLit{Range: r, Text: "-" + l.Text, Duration: -l.Duration}
	}
	return nil
}

// listLit reads [a, b, …] from ts[i] == "[". Brackets are known to balance
// (value checked them). The list is a literal only if every element is.
func (p *parser) listLit(ts []token, i int) (Literal, int) {
	depth, from, j := 0, i+1, i+1
	var elems [][]token
	for ; j < len(ts); j++ {
		t := ts[j]
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case ",":
			if depth == 0 {
				elems = append(elems, ts[from:j])
				from = j + 1
			}
		}
		if depth < 0 {
			break
		}
	}
	if j >= len(ts) {
		return nil, i
	}
	if from < j {
		elems = append(elems, ts[from:j])
	}
	l := &ListLit{Range: p.rng(ts[i].start, ts[j].end)}
	for _, e := range elems {
		if len(e) == 0 {
			return nil, i
		}
		lit, n := p.literal(e, 0)
		if lit == nil || n != len(e) {
			return nil, i
		}
		l.Elems = append(l.Elems, p.valueOf(e, lit))
	}
	return l, j + 1
}
