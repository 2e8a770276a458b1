package lang

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata files")

// TestParseGolden runs every testdata/parse/*.txtar: the in.llmp section is
// parsed and either its AST dump (section "ast") or its rendered
// diagnostic (section "error") must match. -update rewrites them.
func TestParseGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/parse/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 45 {
		t.Errorf("only %d golden cases; want at least 45", len(paths))
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in, ok := section(ar, "in.llmp")
			if !ok {
				t.Fatal("no in.llmp section")
			}
			f, diags := Parse("in.llmp", in)
			checkPositions(t, f)
			name, got := "ast", Dump(f)
			if len(diags) > 0 {
				if len(diags) != 1 {
					t.Errorf("got %d diagnostics, want exactly 1", len(diags))
				}
				var b bytes.Buffer
				diags.Fprint(&b, map[string][]byte{"in.llmp": in}, PrintOptions{})
				name, got = "error", b.String()
			} else {
				checkFormat(t, f)
			}
			holes := holePositions(f)
			if *update {
				setSection(ar, name, got)
				if holes != "" {
					ar.Files = append(ar.Files, txtar.File{Name: "holes", Data: []byte(holes)})
				}
				if err := os.WriteFile(path, txtar.Format(ar), 0o666); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := section(ar, name)
			if !ok {
				t.Fatalf("parse gave %s, but the file has no %q section:\n%s", name, name, got)
			}
			if got != string(want) {
				t.Errorf("%s mismatch\n--- got ---\n%s--- want ---\n%s", name, got, want)
			}
			if want, _ := section(ar, "holes"); holes != string(want) {
				t.Errorf("holes mismatch\n--- got ---\n%s--- want ---\n%s", holes, want)
			}
		})
	}
}

func section(ar *txtar.Archive, name string) ([]byte, bool) {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// setSection replaces the golden sections with one named name.
func setSection(ar *txtar.Archive, name, data string) {
	var files []txtar.File
	for _, f := range ar.Files {
		if f.Name != "ast" && f.Name != "error" && f.Name != "holes" {
			files = append(files, f)
		}
	}
	ar.Files = append(files, txtar.File{Name: name, Data: []byte(data)})
}

// checkPositions verifies that every range in f agrees with an independent
// line/column count of its offsets, and that every decoded string offset
// maps onto the source byte it came from.
func checkPositions(t *testing.T, f *File) {
	t.Helper()
	src := f.Src
	// want[i] is the position of byte offset i, counted independently.
	want := make([]Pos, len(src)+1)
	line, col := 1, 1
	for i := 0; i <= len(src); {
		want[i] = Pos{Line: line, Col: col, Offset: i}
		if i == len(src) {
			break
		}
		r, n := utf8.DecodeRune(src[i:])
		for k := 1; k < n; k++ {
			want[i+k] = Pos{Line: line, Col: col + 1, Offset: i + k} // inside a rune
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += n
	}
	check := func(what string, p Pos) {
		if p.Offset < 0 || p.Offset > len(src) {
			t.Errorf("%s: offset %d outside the source", what, p.Offset)
			return
		}
		if w := want[p.Offset]; p != w {
			t.Errorf("%s: position %d:%d for offset %d, want %d:%d", what, p.Line, p.Col, p.Offset, w.Line, w.Col)
		}
	}
	walkRanges(f, func(what string, r Range) {
		check(what+" start", r.Start)
		check(what+" end", r.End)
		if r.End.Offset < r.Start.Offset {
			t.Errorf("%s: range ends before it starts", what)
		}
	}, func(s *StringLit) {
		for k := 0; k < len(s.Value); k++ {
			if !utf8.RuneStart(s.Value[k]) {
				continue // positions are per rune
			}
			p := s.PosAt(k)
			check("PosAt", p)
			i := len(s.Segments) - 1
			for s.Segments[i].Offset > k {
				i--
			}
			switch {
			case s.Segments[i].Escape:
				if src[p.Offset] != '\\' {
					t.Errorf("PosAt(%d) of %q: escape maps to %q, want a backslash", k, s.Value, src[p.Offset])
				}
			case src[p.Offset] != s.Value[k]:
				t.Errorf("PosAt(%d) of %q is %v holding %q, want %q", k, s.Value, p, src[p.Offset], s.Value[k])
			}
		}
	})
}

// walkRanges calls fn for every range in f and str for every string literal.
func walkRanges(f *File, fn func(string, Range), str func(*StringLit)) {
	var lit func(Literal)
	var value func(*Value)
	value = func(v *Value) {
		fn("value", v.Range)
		if v.Lit != nil {
			lit(v.Lit)
		}
	}
	lit = func(l Literal) {
		fn("literal", l.LitRange())
		switch l := l.(type) {
		case *StringLit:
			str(l)
		case *ListLit:
			for _, e := range l.Elems {
				value(e)
			}
		case *RangeLit:
			value(l.Lo)
			value(l.Hi)
		}
	}
	var typ func(*TypeExpr)
	var entry func(Entry)
	typ = func(te *TypeExpr) {
		fn("type", te.Range)
		if te.Name != nil {
			fn("type name", te.Name.Range)
		}
		if te.List != nil {
			typ(te.List)
		}
		for _, s := range te.Enum {
			lit(s)
		}
		for _, fl := range te.Fields {
			entry(fl)
		}
	}
	entry = func(e Entry) {
		fn("entry", e.EntryRange())
		switch e := e.(type) {
		case *Block:
			fn("kind", e.Kind.Range)
			if e.Name != nil {
				fn("name", e.Name.Range)
			}
			if e.Value != nil {
				value(e.Value)
				return
			}
			fn("body", e.Body.Range)
			for _, x := range e.Body.Entries {
				entry(x)
			}
		case *Attribute:
			fn("attr name", e.Name.Range)
			value(e.Value)
		case *Check:
			if e.Name != nil {
				fn("check name", e.Name.Range)
			}
			if e.Message != nil {
				lit(e.Message)
			}
			value(e.Expr)
		case *Expect:
			value(e.Expr)
		case *Field:
			fn("field name", e.Name.Range)
			typ(e.Type)
			if e.Doc != nil {
				lit(e.Doc)
			}
		}
	}
	for _, b := range f.Blocks {
		entry(b)
	}
	for _, c := range f.Comments {
		fn("comment", c.Range)
	}
}

// holePositions lists, for every string holding template holes, where each
// "{{" maps in the file according to PosAt: the mapping the checker uses to
// place errors inside templates.
func holePositions(f *File) string {
	var b strings.Builder
	walkRanges(f, func(string, Range) {}, func(s *StringLit) {
		for off := 0; ; {
			i := strings.Index(s.Value[off:], "{{")
			if i < 0 {
				break
			}
			off += i
			end := strings.Index(s.Value[off:], "}}")
			if end < 0 {
				end = len(s.Value) - off - 2
			}
			fmt.Fprintf(&b, "%q at %d -> %s\n", s.Value[off:off+end+2], off, s.PosAt(off))
			off += 2
		}
	})
	return b.String()
}
