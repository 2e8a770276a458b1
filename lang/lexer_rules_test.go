package lang

// The participle lexer this package used before its hand-written scanner,
// kept as the reference the scanner is tested against: both must give the
// same tokens for any input (outside values with brackets, where # is an
// expression token for the scanner and a comment for the rules).

import (
	"strings"
	"testing"

	plexer "github.com/alecthomas/participle/v2/lexer"
)

// lexRules is the participle lexer. Rules are tried in order and the first
// match wins: the most frequent tokens come first, """ before ", and the
// terminated form of a string before its bare opening quote, which the
// parser turns into a precise "unterminated string" error. A CRLF line's
// \r is whitespace. Lower-case rule names are elided by participle.
var lexRules = []plexer.SimpleRule{
	{Name: "whitespace", Pattern: `[ \t\r\f\v\x{FEFF}]+`}, // a BOM is blank too
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `\.\.\.|\.\.|\?\.|\?\?|==|!=|<=|>=|&&|\|\||\*\*|[-+*/%^<>=!?:.,;|&(){}\[\]~@]`},
	{Name: "Newline", Pattern: `\n`},
	{Name: "TripleOpen", Pattern: `"""`},
	{Name: "String", Pattern: `"(?:\\[^\n]|[^"\\\n])*"`},
	{Name: "Number", Pattern: `[0-9][0-9_]*(?:\.[0-9][0-9_]*)*(?:[eE][+-]?[0-9][0-9_]*)?(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[0-9][0-9_]*)*)*`},
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "StringOpen", Pattern: `"`},
	{Name: "Money", Pattern: `\$[0-9][0-9_]*(?:\.[0-9][0-9_]*)*[A-Za-z0-9_]*`},
	{Name: "DollarIdent", Pattern: `\$[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Dollar", Pattern: `\$`},
	{Name: "Char", Pattern: `'(?:\\[^\n]|[^'\\\n])*'`},
	{Name: "CharOpen", Pattern: `'`},
	{Name: "RawOpen", Pattern: "`"},
	{Name: "Bad", Pattern: `(?s:.)`},
}

var (
	lexDef   = plexer.MustSimple(lexRules)
	kindOfTT = func() map[plexer.TokenType]tokKind {
		names := map[string]tokKind{
			"EOF": tEOF, "Newline": tNewline, "Comment": tComment,
			"TripleOpen": tTripleOpen,
			"String":     tString, "StringOpen": tStringOpen,
			"RawOpen": tRawOpen, "Char": tChar, "CharOpen": tCharOpen,
			"Money": tMoney, "Dollar": tDollar, "DollarIdent": tDollarIdent,
			"Number": tNumber, "Ident": tIdent, "Punct": tPunct, "Bad": tBad,
		}
		m := map[plexer.TokenType]tokKind{}
		for name, tt := range lexDef.Symbols() {
			if k, ok := names[name]; ok {
				m[tt] = k
			}
		}
		return m
	}()
)

// refTokenize splits src into tokens, dropping whitespace. The catch-all Bad
// rule means the participle lexer cannot fail on valid UTF-8; the caller has
// already rejected invalid UTF-8. The last token is always tEOF.
//
// The participle lexer runs on one line at a time: Go's regexp backtracker
// clears state proportional to the input on every match, so lexing the
// whole file at once would be quadratic. The only tokens that span lines,
// """ strings and expr's ` strings, are found here: the lexer reports their
// opening quotes and the closing ones are searched for in the whole source.
func refTokenize(src string) ([]token, error) {
	var toks []token
	for pos := 0; pos < len(src); {
		lineEnd := len(src)
		if i := strings.IndexByte(src[pos:], '\n'); i >= 0 {
			lineEnd = pos + i + 1
		}
		next, err := refLexLine(src, pos, lineEnd, &toks)
		if err != nil {
			return nil, err
		}
		pos = next
	}
	return append(toks, token{kind: tEOF, start: len(src), end: len(src)}), nil
}

// refLexLine lexes src[pos:end] (one line) and returns where lexing goes on:
// end, or the end of a multi-line string that started on this line.
func refLexLine(src string, pos, end int, toks *[]token) (int, error) {
	lx, err := lexDef.LexString("", src[pos:end])
	if err != nil {
		return 0, err
	}
	for {
		t, err := lx.Next()
		if err != nil {
			return 0, err
		}
		k := kindOfTT[t.Type]
		if k == tEOF {
			return end, nil
		}
		start := pos + t.Pos.Offset
		text := t.Value
		switch k {
		case tComment:
			// Trailing blanks (and a CRLF file's \r) are not part of a comment.
			text = strings.TrimRight(text, " \t\r\f\v")
		case tTripleOpen, tRawOpen:
			if i := strings.Index(src[start+len(text):], text); i >= 0 {
				stop := start + len(text) + i + len(text)
				kind := tTriple
				if k == tRawOpen {
					kind = tRaw
				}
				*toks = append(*toks, token{kind: kind, text: src[start:stop], start: start, end: stop})
				return stop, nil
			}
		}
		*toks = append(*toks, token{kind: k, text: text, start: start, end: start + len(text)})
	}
}

// FuzzLexerMatchesRules checks the scanner against the participle rules on
// text without "#" (the only place the two are meant to differ).
func FuzzLexerMatchesRules(f *testing.F) {
	for _, s := range []string{
		"source s {\n  jsonl = \"a.jsonl\"\n}\n", "x = 1_000 1e6 1e+5s 1h30m 0.25 1..5 $5 $0.25 $env $ 'a' `b`",
		"\"\"\"multi\nline\"\"\" \"esc\\\"aped\" \"open", "a ... .. ?. ?? == != <= >= && || ** ~ @ é \ufeff",
		"x = `raw\nline` 'c\\'' 1e 1e+ 5x_y.5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.ContainsRune(src, '#') || !utf8ValidString(src) {
			return
		}
		want, err := refTokenize(src)
		if err != nil {
			return
		}
		got := tokenize(src)
		if len(got) != len(want) {
			t.Fatalf("%q: %d tokens, want %d\ngot  %v\nwant %v", src, len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: token %d is %+v, want %+v", src, i, got[i], want[i])
			}
		}
	})
}

func utf8ValidString(s string) bool { return invalidUTF8(s) == len(s) }
