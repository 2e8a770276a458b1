package interp

import (
	"strings"
	"testing"

	"github.com/expr-lang/expr/types"
	"github.com/llmpipe/llmpipe/lang"
)

// lit builds a one-line string literal starting at line 1, column 1.
func lit(s string) *lang.StringLit {
	return &lang.StringLit{Value: s, Range: lang.Range{File: "t.llmp", Start: lang.Pos{Line: 1, Col: 1}}}
}

func testEnv() exprEnv {
	return exprEnv{vars: types.Map{
		"item":   types.Map{types.Extra: types.Any},
		"failed": types.Array(types.Map{"field": types.String, "message": types.String}),
		"passed": types.Array(types.String),
		"n":      types.Int,
	}}
}

func TestTemplateRender(t *testing.T) {
	env := map[string]any{
		"item":   map[string]any{"text": "hi", "n": 3, "f": 2.5, "big": 1e20, "whole": 40.0, "tags": []any{"a", "b"}, "obj": map[string]any{"k": "<v>"}},
		"failed": []any{map[string]any{"field": "age", "message": "is missing"}, map[string]any{"field": "name", "message": "is empty"}},
		"passed": []any{"email"},
		"n":      2,
	}
	tests := []struct{ name, src, want string }{
		{"plain", "no holes", "no holes"},
		{"hole", "say {{ item.text }}!", "say hi!"},
		{"tight hole", "{{item.text}}", "hi"},
		{"int", "{{ item.n }}", "3"},
		{"float", "{{ item.f }}", "2.5"},
		{"whole float", "{{ item.whole }}", "40"},
		{"big float", "{{ item.big }}", "1e+20"},
		{"nil", "[{{ item.missing }}]", "[]"},
		{"list as json", "{{ item.tags }}", `["a","b"]`},
		{"map as json", "{{ item.obj }}", `{"k":"<v>"}`},
		{"bool", "{{ n > 1 }}", "true"},
		{"if true", "{{ if n > 1 }}yes{{ else }}no{{ end }}", "yes"},
		{"if false", "{{ if n > 5 }}yes{{ else }}no{{ end }}", "no"},
		{"if no else", "a{{ if n > 5 }}yes{{ end }}b", "ab"},
		{"for inline", "{{ for f in failed }}{{ f.field }},{{ end }}", "age,name,"},
		{"for lines", "Fix:\n{{ for f in failed }}\n- {{ f.field }}: {{ f.message }}\n{{ end }}\nDone.", "Fix:\n- age: is missing\n- name: is empty\nDone."},
		{"indented tags vanish", "A\n  {{ if n > 1 }}\n  B\n  {{ end }}\nC", "A\n  B\nC"},
		{"tag at start", "{{ if true }}\nX\n{{ end }}\n", "X\n"},
		{"tag with text keeps line", "x {{ if true }}y{{ end }}\nz", "x y\nz"},
		{"join builtin", "{{ join(passed, \", \") }}", "email"},
		{"braces in string", `{{ "}}" + item.text }}`, "}}hi"},
		{"nested for if", "{{ for f in failed }}{{ if f.field == \"age\" }}A{{ else }}-{{ end }}{{ end }}", "A-"},
		{"for over nil", "[{{ for x in item.none }}{{ x }}{{ end }}]", "[]"},
		{"else if first", "{{ if n == 2 }}two{{ else if n == 3 }}three{{ else }}other{{ end }}", "two"},
		{"else if second", "{{ if n == 1 }}one{{ else if n == 2 }}two{{ else }}other{{ end }}", "two"},
		{"else if none", "{{ if n == 1 }}one{{ else if n == 3 }}three{{ end }}.", "."},
		{"else if chain", "{{ if n > 5 }}a{{ else if n > 4 }}b{{ else if n > 1 }}c{{ else }}d{{ end }}", "c"},
		{"else if lines vanish", "A\n{{ if n == 1 }}\none\n{{ else if n == 2 }}\ntwo\n{{ end }}\nB", "A\ntwo\nB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, ds := compileTemplate(lit(tt.src), testEnv(), nil)
			if len(ds) > 0 {
				t.Fatalf("compile: %s", ds[0].Message)
			}
			got, err := tm.Render(env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	forb := forbidden{"output": "output exists only in checks"}
	tests := []struct {
		name, src string
		msg       string
		col, end  int // 1-based columns of the diagnostic (the literal opens at column 1)
		help      string
	}{
		{"unknown field in loop var", "{{ for f in failed }}{{ f.feild }}{{ end }}", `f has no field "feild"`, 28, 33, `did you mean "field"?`},
		{"unknown var", "hi {{ itme.text }}", `unknown name "itme"`, 8, 12, `did you mean "item"?`},
		{"forbidden", "x {{ output.age }}", `"output" is not available here`, 7, 13, "output exists only in checks"},
		{"not bool", "{{ if n }}a{{ end }}", "expected bool, but got int", 8, 9, ""},
		{"for non-list", "{{ for x in n }}{{ end }}", "for needs a list, but got int", 14, 15, ""},
		{"unclosed hole", "a {{ item.text", `unclosed "{{" in template`, 4, 6, `close the hole with "}}"`},
		{"unclosed block", "{{ if true }}a", "block is never closed", 2, 15, "add {{ end }} where it should stop"},
		{"stray end", "a{{ end }}", `"end" without "if" or "for"`, 3, 12, ""},
		{"stray else", "a{{ else }}", `"else" outside "if"`, 3, 13, ""},
		{"empty hole", "a{{ }}", `empty "{{ }}" in template`, 3, 8, ""},
		{"bad for", "{{ for x of failed }}{{ end }}", `malformed "for"`, 2, 23, "write {{ for NAME in LIST }}"},
		{"else if unknown name", "{{ if n > 1 }}a{{ else if itme.x }}b{{ end }}", `unknown name "itme"`, 28, 32, `did you mean "item"?`},
		{"else if no condition", "{{ if true }}a{{ else if }}b{{ end }}", `"else if" needs a condition`, 16, 29, "write {{ else if CONDITION }}"},
		{"else if unclosed", "{{ if true }}a{{ else if false }}b", "block is never closed", 2, 15, "add {{ end }} where it should stop"},
		{"hole nests too deep", "{{ " + strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101) + " }}", "brackets nest more than 100 deep", 105, 106, "split the expression, or name its parts with let"},
		{"blocks nest too deep", strings.Repeat("{{ if true }}", 101) + strings.Repeat("{{ end }}", 101), "template blocks nest more than 100 deep", 1302, 1315, "flatten the template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := compileTemplate(lit(tt.src), testEnv(), forb)
			if len(ds) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(ds), ds)
			}
			d := ds[0]
			if d.Message != tt.msg || d.Help != tt.help {
				t.Errorf("got %q / %q, want %q / %q", d.Message, d.Help, tt.msg, tt.help)
			}
			if d.Range.Start.Col != tt.col || d.Range.End.Col != tt.end || d.Range.Start.Line != 1 {
				t.Errorf("range %d:%d-%d, want 1:%d-%d", d.Range.Start.Line, d.Range.Start.Col, d.Range.End.Col, tt.col, tt.end)
			}
			if d.Range.Start.Offset != d.Range.Start.Col-1 {
				t.Errorf("offset %d does not match column %d", d.Range.Start.Offset, d.Range.Start.Col)
			}
		})
	}
}

// A hole on a later line of a multi-line literal, after an escape, reports
// at its true position through the literal's segments.
func TestTemplateSegments(t *testing.T) {
	// Source (line 3 onwards):   prompt = """\n    Name:\n    {{ item.nmae }}\n    """
	// Decoded: "Name:\n{{ item.nmae }}\n". Segment 0 starts at line 4 col 5;
	// segment 1 (after the stripped indentation) at line 5 col 5.
	s := &lang.StringLit{
		Value:  "Name:\n{{ itme.nmae }}\n",
		Triple: true,
		Range:  lang.Range{File: "t.llmp", Start: lang.Pos{Line: 3, Col: 12, Offset: 40}},
		Segments: []lang.Segment{
			{Offset: 0, Pos: lang.Pos{Line: 4, Col: 5, Offset: 48}},
			{Offset: 6, Pos: lang.Pos{Line: 5, Col: 5, Offset: 58}},
		},
	}
	_, ds := compileTemplate(s, testEnv(), nil)
	if len(ds) != 1 {
		t.Fatalf("got %v", ds)
	}
	r := ds[0].Range
	if r.Start.Line != 5 || r.Start.Col != 8 || r.End.Col != 12 || r.Start.Offset != 61 {
		t.Errorf("got %+v, want line 5 col 8..12 offset 61", r)
	}
}

func TestTemplateRenderError(t *testing.T) {
	tm, ds := compileTemplate(lit("{{ for x in item.text }}{{ x }}{{ end }}"), testEnv(), nil)
	if len(ds) > 0 {
		t.Fatal(ds[0].Message)
	}
	_, err := tm.Render(map[string]any{"item": map[string]any{"text": "abc"}})
	if err == nil || !strings.Contains(err.Error(), "for needs a list") {
		t.Errorf("got %v", err)
	}
}
