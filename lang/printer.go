package lang

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PrintOptions control Diagnostics.Fprint.
type PrintOptions struct {
	// Color adds ANSI colours. The CLI sets it for a terminal without
	// NO_COLOR; tests never do.
	Color bool
	// Max caps how many diagnostics are shown (0: all); the rest are
	// summarised as "too many errors (N more)".
	Max int
	// TabWidth is the tab stop used to expand tabs (0: 4).
	TabWidth int
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiBlue   = "\x1b[1;34m"
	ansiCyan   = "\x1b[1;36m"
)

// Fprint renders the diagnostics in the given order, rustc style: a
// clickable "file:line:col: error: message" line, the source line under a
// gutter with carets under the range, "= help:" and one line per note.
// src maps a Range.File to the file's text; a diagnostic whose file is
// missing is printed without a snippet. Write errors are ignored: the
// output is for humans and has nowhere better to go.
func (d Diagnostics) Fprint(w io.Writer, src map[string][]byte, opts PrintOptions) {
	pr := printer{opts: opts, src: src, idx: map[string]*lineIndex{}}
	if pr.opts.TabWidth <= 0 {
		pr.opts.TabWidth = 4
	}
	var b strings.Builder
	for i, x := range d {
		if opts.Max > 0 && i == opts.Max {
			fmt.Fprintf(&b, "%s\n", pr.paint(ansiBold, fmt.Sprintf("too many errors (%d more)", len(d)-i)))
			break
		}
		pr.diagnostic(&b, x)
	}
	io.WriteString(w, b.String())
}

type printer struct {
	opts PrintOptions
	src  map[string][]byte
	idx  map[string]*lineIndex
}

func (pr *printer) paint(code, s string) string {
	if !pr.opts.Color {
		return s
	}
	return code + s + ansiReset
}

func (pr *printer) diagnostic(b *strings.Builder, d *Diagnostic) {
	sev, color := "error", ansiRed
	if d.Severity == SeverityWarning {
		sev, color = "warning", ansiYellow
	}
	pr.header(b, d.Range, pr.paint(color, sev+":"), pr.paint(ansiBold, d.Message))
	gutter := pr.snippet(b, d.Range, color)
	if d.Help != "" {
		pad := strings.Repeat(" ", max(gutter, 1)+1)
		fmt.Fprintf(b, "%s%s %s\n", pad, pr.paint(ansiBlue, "="), pr.paint(ansiCyan, "help:")+" "+d.Help)
	}
	for _, n := range d.Notes {
		pr.header(b, n.Range, pr.paint(ansiCyan, "note:"), n.Message)
	}
}

func (pr *printer) header(b *strings.Builder, r Range, sev, msg string) {
	if loc := location(r); loc != "" {
		fmt.Fprintf(b, "%s: %s %s\n", loc, sev, msg)
	} else {
		fmt.Fprintf(b, "%s %s\n", sev, msg)
	}
}

// snippet prints the gutter, the first source line of r and its carets. It
// returns the gutter width (0 when there is no snippet).
func (pr *printer) snippet(b *strings.Builder, r Range, color string) int {
	x := pr.index(r.File)
	if x == nil || r.Start.Line < 1 || r.Start.Line > len(x.starts) {
		return 0
	}
	line := x.lineText(r.Start.Line)
	num := strconv.Itoa(r.Start.Line)
	pad := strings.Repeat(" ", len(num))
	bar := pr.paint(ansiBlue, "|")

	// Columns are runes; expand tabs the same way in both lines so the
	// carets stay under the text they mark.
	runes := []rune(line)
	from := max(r.Start.Col-1, 0)
	to := len(runes)
	if r.End.Line == r.Start.Line {
		to = r.End.Col - 1
	}
	from, to = min(from, len(runes)), min(max(to, 0), len(runes))
	var text, marks strings.Builder
	col := 0
	for i, c := range runes {
		w := 1
		if c == '\t' {
			w = pr.opts.TabWidth - col%pr.opts.TabWidth
			text.WriteString(strings.Repeat(" ", w))
		} else {
			text.WriteRune(c)
		}
		mark := " "
		if i >= from && i < to {
			mark = "^"
		}
		marks.WriteString(strings.Repeat(mark, w))
		col += w
	}
	m := strings.TrimRight(marks.String(), " ")
	if !strings.Contains(m, "^") {
		// An empty range, or one at the end of the line: one caret where it starts.
		m = m + strings.Repeat(" ", pr.displayCol(runes, from)-len(m)) + "^"
	}
	fmt.Fprintf(b, "%s %s\n", pad, bar)
	fmt.Fprintf(b, "%s\n", strings.TrimRight(fmt.Sprintf("%s %s %s", pr.paint(ansiBlue, num), bar, text.String()), " "))
	carets := strings.TrimLeft(m, " ")
	fmt.Fprintf(b, "%s %s %s%s\n", pad, bar, m[:len(m)-len(carets)], pr.paint(color, carets))
	return len(num)
}

// displayCol is the display column (0-based, tabs expanded) of rune i.
func (pr *printer) displayCol(runes []rune, i int) int {
	col := 0
	for _, c := range runes[:min(i, len(runes))] {
		if c == '\t' {
			col += pr.opts.TabWidth - col%pr.opts.TabWidth
		} else {
			col++
		}
	}
	return col
}

func (pr *printer) index(file string) *lineIndex {
	if x, ok := pr.idx[file]; ok {
		return x
	}
	s, ok := pr.src[file]
	if !ok {
		return nil
	}
	x := newLineIndex(string(s))
	pr.idx[file] = x
	return x
}
