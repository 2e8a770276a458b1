package interp

import (
	"strings"
	"unicode"
)

// A template is lexed into text runs and {{ … }} tags, then parsed into a
// small tree. Offsets are byte offsets in the decoded string, so that the
// string literal's segments can map every hole back to the file.

type tokKind int

const (
	tokText tokKind = iota
	tokHole
	tokIf
	tokElse // expr is set for {{ else if expr }}
	tokEnd
	tokFor
)

type token struct {
	kind     tokKind
	text     string // tokText: the text; tokFor: the loop variable
	expr     string // tokHole, tokIf, tokFor: the expression
	exprOff  int    // decoded offset of expr's first byte
	from, to int    // decoded offsets of the whole token
}

// lexError is a problem at decoded offsets [from, to).
type lexError struct {
	from, to int
	msg      string
	help     string
}

func lexTemplate(s string) ([]token, *lexError) {
	var toks []token
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			toks = append(toks, token{kind: tokText, text: s[i:], from: i, to: len(s)})
			break
		}
		j += i
		if j > i {
			toks = append(toks, token{kind: tokText, text: s[i:j], from: i, to: j})
		}
		k := closeBraces(s, j+2)
		if k < 0 {
			return nil, &lexError{from: j, to: j + 2, msg: "unclosed \"{{\" in template", help: "close the hole with \"}}\""}
		}
		tok, err := classify(s, j, k)
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		i = k + 2
	}
	return trimStandalone(toks), nil
}

// closeBraces finds the "}}" closing a hole opened before from, skipping
// quoted strings inside the expression; -1 if there is none.
func closeBraces(s string, from int) int {
	var quote byte
	for i := from; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}

// classify reads the tag in s[open:close+2].
func classify(s string, open, close int) (token, *lexError) {
	tok := token{from: open, to: close + 2}
	inner := s[open+2 : close]
	lead := len(inner) - len(strings.TrimLeftFunc(inner, unicode.IsSpace))
	body := strings.TrimRightFunc(inner[lead:], unicode.IsSpace)
	base := open + 2 + lead
	word, rest := body, ""
	if n := strings.IndexFunc(body, unicode.IsSpace); n >= 0 {
		word, rest = body[:n], body[n:]
	}
	restOff := base + len(word) + (len(rest) - len(strings.TrimLeftFunc(rest, unicode.IsSpace)))
	rest = strings.TrimSpace(rest)
	switch word {
	case "if":
		if rest == "" {
			return tok, &lexError{from: open, to: close + 2, msg: "\"if\" needs a condition", help: "write {{ if CONDITION }}"}
		}
		tok.kind, tok.expr, tok.exprOff = tokIf, rest, restOff
	case "else", "end":
		if word == "else" && (rest == "if" || strings.HasPrefix(rest, "if ") || strings.HasPrefix(rest, "if\t")) {
			cond := strings.TrimSpace(rest[2:])
			if cond == "" {
				return tok, &lexError{from: open, to: close + 2, msg: "\"else if\" needs a condition", help: "write {{ else if CONDITION }}"}
			}
			tok.kind, tok.expr = tokElse, cond
			tok.exprOff = base + len(body) - len(cond)
			break
		}
		if rest != "" {
			return tok, &lexError{from: restOff, to: restOff + len(rest), msg: "unexpected text after \"" + word + "\""}
		}
		tok.kind = tokElse
		if word == "end" {
			tok.kind = tokEnd
		}
	case "for":
		name, in, ok := strings.Cut(rest, " ")
		in = strings.TrimLeft(in, " \t")
		if !ok || !isName(name) || !strings.HasPrefix(in, "in ") && !strings.HasPrefix(in, "in\t") {
			return tok, &lexError{from: open, to: close + 2, msg: "malformed \"for\"", help: "write {{ for NAME in LIST }}"}
		}
		listSrc := strings.TrimSpace(in[2:])
		tok.kind, tok.text, tok.expr = tokFor, name, listSrc
		tok.exprOff = base + len(body) - len(listSrc)
	default:
		if body == "" {
			return tok, &lexError{from: open, to: close + 2, msg: "empty \"{{ }}\" in template"}
		}
		tok.kind, tok.expr, tok.exprOff = tokHole, body, base
	}
	return tok, nil
}

// trimStandalone removes lines that hold only a block tag: the indentation
// before the tag and the newline after it. Which tags stand alone is decided
// on the untrimmed text, so adjacent tag lines all vanish.
func trimStandalone(toks []token) []token {
	type cut struct{ tail, head bool }
	cuts := make([]cut, len(toks))
	for t, tok := range toks {
		if tok.kind == tokText || tok.kind == tokHole {
			continue
		}
		before := t == 0
		if !before && toks[t-1].kind == tokText {
			txt := toks[t-1].text
			nl := strings.LastIndexByte(txt, '\n')
			if (nl >= 0 || t-1 == 0) && isBlank(txt[nl+1:]) {
				before = true
			}
		}
		after := t == len(toks)-1
		if !after && toks[t+1].kind == tokText {
			txt := toks[t+1].text
			nl := strings.IndexByte(txt, '\n')
			after = nl >= 0 && isBlank(txt[:nl]) || nl < 0 && t+1 == len(toks)-1 && isBlank(txt)
		}
		if before && after {
			if t > 0 {
				cuts[t-1].tail = true
			}
			if t+1 < len(toks) {
				cuts[t+1].head = true
			}
		}
	}
	for t := range toks {
		txt := toks[t].text
		if cuts[t].head {
			if nl := strings.IndexByte(txt, '\n'); nl >= 0 {
				txt = txt[nl+1:]
			} else {
				txt = ""
			}
		}
		if cuts[t].tail {
			txt = txt[:strings.LastIndexByte(txt, '\n')+1]
		}
		if toks[t].kind == tokText {
			toks[t].text = txt
		}
	}
	return toks
}

func isBlank(s string) bool { return strings.Trim(s, " \t\r") == "" }
