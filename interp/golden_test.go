package interp

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/lang"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/check/*.txtar")

// TestCheckGolden checks every testdata/check/*.txtar: in.llmp (plus any
// data files it reads) against the exact rendered diagnostics and, when
// there are no errors, the program's dump.
func TestCheckGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 45 {
		t.Errorf("only %d golden cases; want at least 45", len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var src []byte
			for _, f := range ar.Files {
				switch f.Name {
				case "diagnostics", "ir":
					continue
				case "in.llmp":
					src = f.Data
				}
				p := filepath.Join(dir, filepath.FromSlash(f.Name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if src == nil {
				t.Fatal("no in.llmp section")
			}
			diags, ir := checkText(t, src, dir)
			compareSection(t, ar, "diagnostics", diags)
			compareSection(t, ar, "ir", ir)
			if *update {
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// checkText parses and checks src as "in.llmp" with paths resolving in dir.
func checkText(t *testing.T, src []byte, dir string) (diags, ir string) {
	t.Helper()
	f, ds := lang.Parse("in.llmp", src)
	var prog *Program
	if f != nil && !ds.HasErrors() {
		var cds lang.Diagnostics
		prog, cds = Check(f, &Options{Funcs: testFuncs(), Dir: dir})
		ds = append(ds, cds...)
	}
	var b bytes.Buffer
	ds.Fprint(&b, map[string][]byte{"in.llmp": src}, lang.PrintOptions{})
	if prog != nil {
		ir = prog.Dump()
	}
	for _, d := range ds {
		if strings.HasPrefix(d.Message, "internal checker error") {
			t.Errorf("checker panicked: %s", d.Message)
		}
	}
	return b.String(), ir
}

// compareSection compares (or, with -update, rewrites) one golden section;
// an absent section means the output must be empty.
func compareSection(t *testing.T, ar *txtar.Archive, name, got string) {
	t.Helper()
	for i, f := range ar.Files {
		if f.Name != name {
			continue
		}
		if *update {
			if got == "" {
				ar.Files = append(ar.Files[:i], ar.Files[i+1:]...)
			} else {
				ar.Files[i].Data = []byte(got)
			}
			return
		}
		if string(f.Data) != got {
			t.Errorf("%s differ:\n--- got\n%s--- want\n%s", name, got, f.Data)
		}
		return
	}
	if *update {
		if got != "" {
			ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(got)})
		}
		return
	}
	if got != "" {
		t.Errorf("unexpected %s:\n%s", name, got)
	}
}
