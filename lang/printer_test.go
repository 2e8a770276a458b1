package lang

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// rangeOf finds the n-th (0-based) occurrence of sub in src and returns its range.
func rangeOf(t *testing.T, file string, src, sub string, n int) Range {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(src[off+1:], sub)
		if j < 0 {
			t.Fatalf("%q not found %d times", sub, n+1)
		}
		off += 1 + j
	}
	x := newLineIndex(src)
	return Range{File: file, Start: x.pos(off), End: x.pos(off + len(sub))}
}

func TestFprint(t *testing.T) {
	const file = "pipelines/summarize.llmp"
	long := strings.Repeat("\n", 11) + "  model = \"gemini-2.5-flsh\"\n"
	defaults := "\n\n\n  model {\n" + strings.Repeat("\n", 7) + "  model = \"gemini-2.5-flsh\"\n"
	tabs := "step s {\n\tprompt\t= x\n}\n"
	multi := "a = (x +\n  y)\n"
	uni := "name = \"日本\" bad\n"
	hundred := strings.Repeat("\n", 99) + "x = 1\n"
	tests := []struct {
		name string
		src  string
		diag func(src string) Diagnostics
		opts PrintOptions
		want string
	}{
		{
			name: "style guide example",
			src:  defaults,
			diag: func(src string) Diagnostics {
				return Diagnostics{{
					Range:   rangeOf(t, file, src, `"gemini-2.5-flsh"`, 0),
					Message: `unknown model "gemini-2.5-flsh"`,
					Help:    `did you mean "gemini-2.5-flash"?`,
					Notes:   []Note{{Range: rangeOf(t, file, src, "model", 0), Message: "model defaults declared here"}},
				}}
			},
			want: `pipelines/summarize.llmp:12:11: error: unknown model "gemini-2.5-flsh"
   |
12 |   model = "gemini-2.5-flsh"
   |           ^^^^^^^^^^^^^^^^^
   = help: did you mean "gemini-2.5-flash"?
pipelines/summarize.llmp:4:3: note: model defaults declared here
`,
		},
		{
			name: "warning without help",
			src:  long,
			diag: func(src string) Diagnostics {
				return Diagnostics{{Severity: SeverityWarning, Range: rangeOf(t, file, src, "model", 0), Message: "unused model"}}
			},
			want: `pipelines/summarize.llmp:12:3: warning: unused model
   |
12 |   model = "gemini-2.5-flsh"
   |   ^^^^^
`,
		},
		{
			name: "tabs expand the same in source and carets",
			src:  tabs,
			diag: func(src string) Diagnostics {
				return Diagnostics{{Range: rangeOf(t, file, src, "x", 0), Message: "bad"}}
			},
			want: `pipelines/summarize.llmp:2:11: error: bad
  |
2 |     prompt  = x
  |               ^
`,
		},
		{
			name: "multi-line range marks the first line to its end",
			src:  multi,
			diag: func(src string) Diagnostics {
				return Diagnostics{{Range: rangeOf(t, file, src, "(x +\n  y)", 0), Message: "bad"}}
			},
			want: `pipelines/summarize.llmp:1:5: error: bad
  |
1 | a = (x +
  |     ^^^^
`,
		},
		{
			name: "empty range at the end of a line gets one caret",
			src:  multi,
			diag: func(src string) Diagnostics {
				r := rangeOf(t, file, src, "\n", 0)
				r.End = r.Start
				return Diagnostics{{Range: r, Message: "bad"}}
			},
			want: `pipelines/summarize.llmp:1:9: error: bad
  |
1 | a = (x +
  |         ^
`,
		},
		{
			name: "rune columns after multi-byte text",
			src:  uni,
			diag: func(src string) Diagnostics {
				return Diagnostics{{Range: rangeOf(t, file, src, "bad", 0), Message: "bad"}}
			},
			want: `pipelines/summarize.llmp:1:13: error: bad
  |
1 | name = "日本" bad
  |             ^^^
`,
		},
		{
			name: "wide gutter",
			src:  hundred,
			diag: func(src string) Diagnostics {
				return Diagnostics{{Range: rangeOf(t, file, src, "1", 0), Message: "bad", Help: "h"}}
			},
			want: `pipelines/summarize.llmp:100:5: error: bad
    |
100 | x = 1
    |     ^
    = help: h
`,
		},
		{
			name: "unknown file and no range",
			src:  "",
			diag: func(string) Diagnostics {
				return Diagnostics{
					{Range: Range{File: "other.llmp", Start: Pos{Line: 3, Col: 4}}, Message: "a", Help: "fix it"},
					{Message: "no file to check"},
				}
			},
			want: `other.llmp:3:4: error: a
  = help: fix it
error: no file to check
`,
		},
		{
			name: "cap",
			src:  tabs,
			opts: PrintOptions{Max: 1},
			diag: func(src string) Diagnostics {
				r := rangeOf(t, file, src, "s", 1)
				return Diagnostics{{Range: r, Message: "one"}, {Range: r, Message: "two"}, {Range: r, Message: "three"}}
			},
			want: `pipelines/summarize.llmp:1:6: error: one
  |
1 | step s {
  |      ^
too many errors (2 more)
`,
		},
		{
			name: "colour",
			src:  "x = 1\n",
			opts: PrintOptions{Color: true},
			diag: func(src string) Diagnostics {
				return Diagnostics{{Range: rangeOf(t, file, src, "1", 0), Message: "bad", Help: "h"}}
			},
			want: "pipelines/summarize.llmp:1:5: \x1b[1;31merror:\x1b[0m \x1b[1mbad\x1b[0m\n" +
				"  \x1b[1;34m|\x1b[0m\n" +
				"\x1b[1;34m1\x1b[0m \x1b[1;34m|\x1b[0m x = 1\n" +
				"  \x1b[1;34m|\x1b[0m     \x1b[1;31m^\x1b[0m\n" +
				"  \x1b[1;34m=\x1b[0m \x1b[1;36mhelp:\x1b[0m h\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.diag(tt.src).Fprint(&b, map[string][]byte{file: []byte(tt.src)}, tt.opts)
			if got := b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestDiagnosticsMethods(t *testing.T) {
	at := func(file string, off int, msg string, sev Severity) *Diagnostic {
		return &Diagnostic{Severity: sev, Message: msg, Range: Range{File: file, Start: Pos{Line: 1, Col: off + 1, Offset: off}}}
	}
	warn := Diagnostics{at("a", 0, "w", SeverityWarning)}
	if warn.HasErrors() || warn.Err() != nil {
		t.Errorf("warnings only: HasErrors %v, Err %v; want false, nil", warn.HasErrors(), warn.Err())
	}
	var none Diagnostics
	if none.Err() != nil {
		t.Error("no diagnostics must give a nil error")
	}
	two := Diagnostics{at("a.llmp", 4, "first problem", SeverityError), at("a.llmp", 9, "second", SeverityError)}
	err := two.Err()
	if err == nil {
		t.Fatal("errors must give an error")
	}
	if got, want := err.Error(), "a.llmp:1:5: first problem (and 1 more)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) != 2 {
		t.Errorf("errors.As to Diagnostics failed: %v", ds)
	}
	if got, want := two[:1].Error(), "a.llmp:1:5: first problem"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	list := Diagnostics{
		at("b", 1, "z", SeverityError),
		at("a", 5, "y", SeverityError),
		at("a", 5, "x", SeverityError),
		at("a", 1, "dup", SeverityError),
		at("a", 1, "dup", SeverityError),
		at("a", 1, "dup", SeverityWarning),
	}
	list.Sort()
	var got []string
	for _, d := range list {
		got = append(got, d.Range.File+":"+d.Message)
	}
	if want := "a:dup a:dup a:x a:y b:z"; strings.Join(got, " ") != want {
		t.Errorf("Sort gave %q, want %q", strings.Join(got, " "), want)
	}
}
