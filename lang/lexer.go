package lang

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind int

const (
	tEOF tokKind = iota
	tNewline
	tComment
	tTriple     // """…""" (raw, may span lines)
	tTripleOpen // """ with no closing """
	tString     // "…" with Go escapes
	tStringOpen // " with no closing quote on its line
	tRaw        // `…` (expr-lang raw string, only meaningful in expressions)
	tRawOpen
	tChar // '…' (expr-lang single-quoted string)
	tCharOpen
	tMoney       // $5, $0.25 (validated when consumed)
	tDollar      // a lone $ (always an error)
	tDollarIdent // $env (expr-lang)
	tNumber      // 12, 1_000, 0.5, 1e6, and durations 30s, 1h30m (validated when consumed)
	tIdent
	tPunct
	tBad // any other rune
)

// token is one lexeme; start and end are byte offsets into the source.
type token struct {
	kind       tokKind
	text       string
	start, end int
}

// puncts are the operators and brackets, longest first where one is a
// prefix of another.
var puncts3 = []string{"..."}
var puncts2 = []string{"..", "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "**"}

const punct1 = "-+*/%^<>=!?:.,;|&(){}[]~@"

// tokenize splits src into tokens, dropping whitespace. It never fails:
// malformed tokens (an unterminated string, a lone $) get kinds of their
// own so the parser can say exactly what is wrong; the caller has already
// rejected invalid UTF-8. The last token is always tEOF.
//
// The scanner is hand-written and looks at each byte a bounded number of
// times, so lexing is linear in the size of the file however long its
// lines are (a regexp lexer that restarts at every token is quadratic on a
// long line). A """ string and an expr ` string may span lines; their
// closing quotes are searched for from the opening one, once.
//
// # and brackets: outside a value, # starts a comment. Inside a value (after
// "=", a check's ":" or "expect") with a bracket still open, # is expr-lang's
// closure argument (all(tags, {# != ""})) and is a tPunct.
func tokenize(src string) []token {
	lx := &lexer{src: src, toks: make([]token, 0, len(src)/6+1)}
	lx.run()
	return append(lx.toks, token{kind: tEOF, start: len(src), end: len(src)})
}

// tokenizeValue is tokenize for the text of one value (as Value.Raw holds
// it): # inside its brackets is an expression token, as in the file.
func tokenizeValue(src string) []token {
	lx := &lexer{src: src, inValue: true}
	lx.run()
	return append(lx.toks, token{kind: tEOF, start: len(src), end: len(src)})
}

type lexer struct {
	src  string
	toks []token
	// Value state: inValue after "=", ":" or expect until the value ends;
	// depth counts the brackets open inside it.
	inValue bool
	depth   int
}

func (lx *lexer) emit(k tokKind, start, end int) {
	lx.toks = append(lx.toks, token{kind: k, text: lx.src[start:end], start: start, end: end})
}

func (lx *lexer) run() {
	s := lx.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == 0xEF && strings.HasPrefix(s[i:], "\uFEFF"): // a BOM is blank too
			i += len("\uFEFF")
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			lx.emit(tIdent, i, j)
			if !lx.inValue && s[i:j] == "expect" && lx.atEntryStart(len(lx.toks)-1) {
				lx.inValue, lx.depth = true, 0
			}
			i = j
		case c == '\n':
			lx.emit(tNewline, i, i+1)
			if lx.inValue && lx.depth == 0 && !lx.continues() {
				lx.inValue = false
			}
			i++
		case c == '"':
			i = lx.quote(i)
		case c >= '0' && c <= '9':
			j := scanNumber(s, i)
			lx.emit(tNumber, i, j)
			i = j
		case c == '#':
			if lx.inValue && lx.depth > 0 {
				lx.emit(tPunct, i, i+1)
				i++
				continue
			}
			j := i + strings.IndexByte(s[i:], '\n')
			if j < i {
				j = len(s)
			}
			// Trailing blanks (and a CRLF file's \r) are not part of a comment.
			k := i + len(strings.TrimRight(s[i:j], " \t\r\f\v"))
			lx.toks = append(lx.toks, token{kind: tComment, text: s[i:k], start: i, end: k})
			i = j
		case c == '$':
			i = lx.dollar(i)
		case c == '\'':
			if j := closeQuote(s, i+1, '\''); j > 0 {
				lx.emit(tChar, i, j)
				i = j
			} else {
				lx.emit(tCharOpen, i, i+1)
				i++
			}
		case c == '`':
			if k := strings.IndexByte(s[i+1:], '`'); k >= 0 {
				lx.emit(tRaw, i, i+1+k+1)
				i += k + 2
			} else {
				lx.emit(tRawOpen, i, i+1)
				i++
			}
		default:
			if n := punctLen(s[i:]); n > 0 {
				lx.emit(tPunct, i, i+n)
				lx.punct(s[i : i+n])
				i += n
				continue
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			lx.emit(tBad, i, i+n)
			i += n
		}
	}
}

// punct updates the value state after an operator or bracket.
func (lx *lexer) punct(p string) {
	switch p {
	case "=", ":":
		if !lx.inValue {
			lx.inValue, lx.depth = true, 0
		}
	case "(", "[", "{":
		if lx.inValue {
			lx.depth++
		}
	case ")", "]", "}":
		switch {
		case lx.inValue && lx.depth > 0:
			lx.depth--
		case p == "}":
			lx.inValue = false // the "}" closes the block the value was in
		}
	}
}

// atEntryStart reports whether token i starts a line's entry.
func (lx *lexer) atEntryStart(i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch t := lx.toks[j]; {
		case t.kind == tComment:
			continue
		case t.kind == tNewline, isPunct(t, "{"):
			return true
		default:
			return false
		}
	}
	return true
}

// continues reports whether the value goes on past this newline: its last
// token is a binary operator, which needs an operand on the next line.
func (lx *lexer) continues() bool {
	n := len(lx.toks) - 2 // the newline is the last token
	for n >= 0 && lx.toks[n].kind == tComment {
		n--
	}
	if n < 0 {
		return false
	}
	return continuesLine(lx.toks[n])
}

// quote lexes a string starting at s[i] == '"'.
func (lx *lexer) quote(i int) int {
	s := lx.src
	if strings.HasPrefix(s[i:], `"""`) {
		if k := strings.Index(s[i+3:], `"""`); k >= 0 {
			end := i + 3 + k + 3
			lx.emit(tTriple, i, end)
			return end
		}
		lx.emit(tTripleOpen, i, i+3)
		return i + 3
	}
	if j := closeQuote(s, i+1, '"'); j > 0 {
		lx.emit(tString, i, j)
		return j
	}
	lx.emit(tStringOpen, i, i+1)
	return i + 1
}

// closeQuote finds the end (after the closing quote) of a one-line quoted
// string whose text starts at s[from], or -1 when the line ends first. A
// backslash escapes any one character except a newline.
func closeQuote(s string, from int, q byte) int {
	for j := from; j < len(s); j++ {
		switch s[j] {
		case q:
			return j + 1
		case '\n':
			return -1
		case '\\':
			if j+1 >= len(s) || s[j+1] == '\n' {
				return -1
			}
			_, n := utf8.DecodeRuneInString(s[j+1:])
			j += n
		}
	}
	return -1
}

// dollar lexes $5 (money), $env (expr) or a lone $.
func (lx *lexer) dollar(i int) int {
	s := lx.src
	switch {
	case i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
		// \$[0-9][0-9_]*(\.[0-9][0-9_]*)*[A-Za-z0-9_]*
		j := scanDigits(s, i+1)
		for j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j = scanDigits(s, j+1)
		}
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		lx.emit(tMoney, i, j)
		return j
	case i+1 < len(s) && isIdentStart(s[i+1]):
		j := i + 2
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		lx.emit(tDollarIdent, i, j)
		return j
	}
	lx.emit(tDollar, i, i+1)
	return i + 1
}

// scanNumber returns the end of the number or duration at s[i]:
// [0-9][0-9_]* (.[0-9][0-9_]*)* ([eE][+-]?[0-9][0-9_]*)? (NAME (.[0-9][0-9_]*)*)*
// A malformed one (1_, 5x) is one token; the parser reports it.
func scanNumber(s string, i int) int {
	j := scanDigits(s, i)
	for j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j = scanDigits(s, j+1)
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			j = scanDigits(s, k)
		}
	}
	for j < len(s) && isIdentStart(s[j]) {
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		for j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j = scanDigits(s, j+1)
		}
	}
	return j
}

// scanDigits returns the end of [0-9][0-9_]* from s[i] (a digit).
func scanDigits(s string, i int) int {
	j := i + 1
	for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
		j++
	}
	return j
}

func punctLen(s string) int {
	for _, p := range puncts3 {
		if strings.HasPrefix(s, p) {
			return 3
		}
	}
	for _, p := range puncts2 {
		if strings.HasPrefix(s, p) {
			return 2
		}
	}
	if strings.IndexByte(punct1, s[0]) >= 0 {
		return 1
	}
	return 0
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentByte(c byte) bool  { return isIdentStart(c) || isDigit(c) }
