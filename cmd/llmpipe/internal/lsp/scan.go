package lsp

import "strings"

// A small lexer for the text of values: expressions (expr-lang) and
// templates ("…" or """…""" with {{ }} holes). The checker compiles these
// with expr itself; the server only needs to know where names, strings,
// numbers and operators are, for colouring, references and completion.

type tokKind int

const (
	tokName tokKind = iota
	tokNumber
	tokString
	tokOp
	tokKeyword // expr's word operators and template keywords
	tokHole    // {{ or }}
)

type tok struct {
	kind       tokKind
	start, end int  // byte offsets in the document
	afterDot   bool // a name right after '.', i.e. a field, not a variable
}

// wordOps are expr-lang's operators and literals spelled as words.
var wordOps = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "contains": true, "matches": true,
	"startsWith": true, "endsWith": true, "nil": true, "true": true, "false": true, "let": true,
}

// templateWords are the template language's keywords inside holes.
var templateWords = map[string]bool{"if": true, "else": true, "for": true, "in": true, "end": true}

// scanValue lexes text[lo:hi]. In a template the strings are text with
// holes, and each hole is lexed as an expression.
func scanValue(text string, lo, hi int, template bool) []tok {
	var out []tok
	hi = min(hi, len(text))
	for i := lo; i < hi; {
		c := text[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := stringEnd(text, i, hi)
			if template && c == '"' {
				out = appendTemplate(out, text, i, end)
			} else {
				out = append(out, tok{kind: tokString, start: i, end: end})
			}
			i = end
		case c >= '0' && c <= '9':
			j := i
			for j < hi && (isNameByte(text[j], false) || text[j] == '.' && j+1 < hi && text[j+1] >= '0' && text[j+1] <= '9') {
				j++
			}
			out = append(out, tok{kind: tokNumber, start: i, end: j})
			i = j
		case isNameByte(c, false):
			j := i
			for j < hi && isNameByte(text[j], false) {
				j++
			}
			k := tokName
			if wordOps[text[i:j]] {
				k = tokKeyword
			}
			out = append(out, tok{kind: k, start: i, end: j, afterDot: i > lo && text[i-1] == '.'})
			i = j
		case c == '#' && !template && !insideBrackets(text, lo, i):
			return out // a comment ends the value
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			j := i + 1
			for j < hi && strings.IndexByte("=!<>&|+-*/%^?:", text[j]) >= 0 && strings.IndexByte("=!<>&|+-*/%^?:", c) >= 0 {
				j++
			}
			out = append(out, tok{kind: tokOp, start: i, end: j})
			i = j
		}
	}
	return out
}

// insideBrackets reports whether offset i is inside an open ( [ { after lo.
func insideBrackets(text string, lo, i int) bool {
	depth := 0
	for j := lo; j < i; j++ {
		switch text[j] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
	}
	return depth > 0
}

// stringEnd is the offset just past the string starting at i.
func stringEnd(text string, i, hi int) int {
	q := text[i]
	if q == '"' && strings.HasPrefix(text[i:], `"""`) {
		if j := strings.Index(text[i+3:hi], `"""`); j >= 0 {
			return i + 3 + j + 3
		}
		return hi
	}
	for j := i + 1; j < hi; j++ {
		switch text[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j + 1
		case '\n':
			if q != '`' {
				return j
			}
		}
	}
	return hi
}

// appendTemplate splits a template string into text and lexed holes.
func appendTemplate(out []tok, text string, lo, hi int) []tok {
	i := lo
	for i < hi {
		open := strings.Index(text[i:hi], "{{")
		if open < 0 {
			break
		}
		open += i
		if open > i {
			out = append(out, tok{kind: tokString, start: i, end: open})
		}
		end := strings.Index(text[open+2:hi], "}}")
		if end < 0 {
			out = append(out, tok{kind: tokString, start: open, end: hi})
			return out
		}
		end += open + 2
		out = append(out, tok{kind: tokHole, start: open, end: open + 2})
		for _, t := range scanValue(text, open+2, end, false) {
			if t.kind == tokName && templateWords[text[t.start:t.end]] {
				t.kind = tokKeyword
			}
			out = append(out, t)
		}
		out = append(out, tok{kind: tokHole, start: end, end: end + 2})
		i = end + 2
	}
	if i < hi {
		out = append(out, tok{kind: tokString, start: i, end: hi})
	}
	return out
}
