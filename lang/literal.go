package lang

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Numbers: digits with single underscores between them, an optional
// fraction and exponent. Durations: one or more number+unit pairs.
var (
	reInt      = regexp.MustCompile(`^[0-9]+(?:_[0-9]+)*$`)
	reFloat    = regexp.MustCompile(`^[0-9]+(?:_[0-9]+)*(?:\.[0-9]+(?:_[0-9]+)*)?(?:[eE][+-]?[0-9]+)?$`)
	reDuration = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|ms|s|m|h))+$`)
	reMoney    = regexp.MustCompile(`^\$[0-9]+(?:_[0-9]+)*(?:\.[0-9]+)?$`)
)

const (
	helpDuration = "a duration is numbers with units ns, us, ms, s, m or h, every number with a unit: 500ms, 30s, 2m, 1h30m"
	helpNumber   = "numbers are written 42, 1_000_000, 0.25 or 1e6 (underscores only between digits)"
	helpMoney    = "money is US dollars with at most one decimal point: $5, $0.25, $1_000"
	helpEscapes  = `valid escapes are \n \t \r \\ \" \a \b \f \v \xFF \u1234 \U00012345 and octal \123; a """ string takes text as written`
)

// numberLit turns a Number token into a *NumberLit or *DurationLit.
func (p *parser) numberLit(t token) Literal {
	r := p.rng(t.start, t.end)
	text := t.text
	if reInt.MatchString(text) {
		n, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 10, 64)
		if err != nil {
			p.fail(r, "integer "+strconv.Quote(text)+" is too large", "integers must fit in 64 bits (at most 9223372036854775807)")
		}
		return &NumberLit{Range: r, Text: text, IsInt: true, Int: n, Float: float64(n)}
	}
	if reFloat.MatchString(text) {
		f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) {
			p.fail(r, "number "+strconv.Quote(text)+" is out of range", helpNumber)
		}
		return &NumberLit{Range: r, Text: text, Float: f}
	}
	if i := strings.IndexFunc(text, isLetter); i < 0 || (i > 0 && text[i-1] == '_') || strings.Contains(text, "_") {
		// No unit, or underscores: a malformed number rather than a duration.
		if i < 0 || !reDuration.MatchString(strings.ReplaceAll(text, "_", "")) {
			p.fail(r, "invalid number "+strconv.Quote(text), helpNumber)
		}
		p.fail(r, "invalid duration "+strconv.Quote(text), helpDuration+"; underscores are not allowed in durations")
	}
	if !reDuration.MatchString(text) {
		p.fail(r, "invalid duration "+strconv.Quote(text), helpDuration)
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		p.fail(r, "invalid duration "+strconv.Quote(text), "durations must be shorter than about 290 years")
	}
	return &DurationLit{Range: r, Text: text, Duration: d}
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// moneyLit turns a Money token into a *MoneyLit.
func (p *parser) moneyLit(t token) *MoneyLit {
	r := p.rng(t.start, t.end)
	if !reMoney.MatchString(t.text) {
		p.fail(r, "invalid money amount "+strconv.Quote(t.text), helpMoney)
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(t.text[1:], "_", ""), 64)
	if err != nil || math.IsInf(f, 0) {
		p.fail(r, "money amount "+strconv.Quote(t.text)+" is out of range", helpMoney)
	}
	return &MoneyLit{Range: r, Text: t.text, Dollars: f}
}

// stringLit decodes a "…" token, recording a segment for every verbatim run
// and every escape so decoded offsets map back to the file.
func (p *parser) stringLit(t token) *StringLit {
	lit := &StringLit{Range: p.rng(t.start, t.end)}
	body := t.text[1 : len(t.text)-1]
	base := t.start + 1
	var b strings.Builder
	seg := func(i int, esc bool) {
		lit.Segments = append(lit.Segments, Segment{Offset: b.Len(), Pos: p.lines.pos(base + i), Escape: esc})
	}
	for i := 0; i < len(body); {
		if body[i] != '\\' {
			j := strings.IndexByte(body[i:], '\\')
			if j < 0 {
				j = len(body) - i
			}
			seg(i, false)
			b.WriteString(body[i : i+j])
			i += j
			continue
		}
		v, multibyte, tail, err := strconv.UnquoteChar(body[i:], '"')
		if err != nil {
			end := i + 2
			if end > len(body) {
				end = len(body)
			}
			for end < len(body) && !utf8.RuneStart(body[end]) {
				end++
			}
			p.fail(p.rng(base+i, base+end), `invalid escape sequence "`+body[i:end]+`"`, helpEscapes)
		}
		seg(i, true)
		if multibyte {
			b.WriteRune(v)
		} else {
			b.WriteByte(byte(v)) // \xFF and octal escapes are bytes
		}
		i = len(body) - len(tail)
	}
	lit.Value = b.String()
	if len(lit.Segments) == 0 {
		lit.Segments = []Segment{{Offset: 0, Pos: p.lines.pos(base)}}
	}
	markPlain(lit)
	return lit
}

// markPlain flags the segments whose decoded text is ASCII with at most a
// final newline: PosAt maps offsets in them by arithmetic instead of by
// walking the text, so mapping every hole of a long line stays linear.
func markPlain(lit *StringLit) {
	for i := range lit.Segments {
		seg := &lit.Segments[i]
		if seg.Escape {
			continue
		}
		end := len(lit.Value)
		if i+1 < len(lit.Segments) {
			end = lit.Segments[i+1].Offset
		}
		text := lit.Value[seg.Offset:end]
		plain := true
		for j := 0; j < len(text); j++ {
			if c := text[j]; c >= utf8.RuneSelf || c == '\n' && j < len(text)-1 {
				plain = false
				break
			}
		}
		seg.plain = plain
	}
}

// tripleLit decodes a """…""" token. The text is taken as written (no
// escapes). If the rest of the opening line is blank it is dropped with its
// newline; the common leading whitespace of the remaining non-blank lines
// and of the closing line (the text before the closing """) is removed from
// every line; a blank closing line contributes nothing, so a closing """ on
// its own line leaves the value ending in a newline. CRLF line endings
// decode to "\n".
func (p *parser) tripleLit(t token) *StringLit {
	lit := &StringLit{Range: p.rng(t.start, t.end), Triple: true}
	lit.Value, lit.Segments = decodeTriple(t.text[3:len(t.text)-3], t.start+3, p.lines)
	markPlain(lit)
	return lit
}

// tripleLine is one source line of a """ string (without its '\n').
type tripleLine struct {
	text  string
	start int  // byte offset in the file
	nl    bool // followed by '\n'
}

// decodeTriple implements the """ rules for body starting at file offset
// base; lines may be nil when only the value is wanted (the formatter).
func decodeTriple(body string, base int, lines *lineIndex) (string, []Segment) {
	var ls []tripleLine
	for off := 0; ; {
		j := strings.IndexByte(body[off:], '\n')
		if j < 0 {
			ls = append(ls, tripleLine{text: body[off:], start: base + off})
			break
		}
		ls = append(ls, tripleLine{text: body[off : off+j], start: base + off, nl: true})
		off += j + 1
	}
	first := 0 // lines before first are dropped
	keepOpener := true
	if len(ls) > 1 && isBlank(ls[0].text) {
		first, keepOpener = 1, false
	}
	// The opener line's text (when kept) is not indented, so it does not
	// take part in the common indentation.
	indentFrom := first
	if keepOpener {
		indentFrom = 1
	}
	var common string
	have := false
	last := len(ls) - 1
	for i := indentFrom; i < len(ls); i++ {
		if i != last && isBlank(ls[i].text) {
			continue
		}
		ws := leadingWS(ls[i].text)
		if !have {
			common, have = ws, true
		} else {
			common = commonPrefix(common, ws)
		}
	}
	var b strings.Builder
	var segs []Segment
	seg := func(off int) {
		if lines != nil {
			segs = append(segs, Segment{Offset: b.Len(), Pos: lines.pos(off)})
		}
	}
	for i := first; i < len(ls); i++ {
		l := ls[i]
		text, start := l.text, l.start
		if i >= indentFrom {
			if strings.HasPrefix(text, common) {
				text, start = text[len(common):], start+len(common)
			} else {
				// Only blank lines can lack the common prefix.
				text, start = "", start+len(text)
			}
		}
		if i == last {
			if isBlank(l.text) && i >= indentFrom {
				break
			}
			if text != "" {
				seg(start)
				b.WriteString(text)
			}
			break
		}
		cr := strings.HasSuffix(text, "\r")
		if cr {
			text = text[:len(text)-1]
		}
		if text != "" {
			seg(start)
			b.WriteString(text)
		}
		if cr || text == "" {
			seg(l.start + len(l.text)) // the '\n' itself
		}
		b.WriteByte('\n')
	}
	if len(segs) == 0 && lines != nil {
		segs = []Segment{{Offset: 0, Pos: lines.pos(base)}}
	}
	return b.String(), segs
}

func isBlank(s string) bool { return strings.Trim(s, " \t\r\f\v") == "" }

func leadingWS(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}
