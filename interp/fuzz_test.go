package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/lang"
	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzCheck parses and checks arbitrary text: Check must never panic (its
// recover turns a panic into an "internal checker error" diagnostic, which
// this target treats as a failure) and must not leave an error-free file
// without a program.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob("../pipelines/*.llmp")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	golden, _ := filepath.Glob("testdata/check/*.txtar")
	for _, p := range golden {
		if ar, err := txtar.ParseFile(p); err == nil {
			for _, fl := range ar.Files {
				if fl.Name == "in.llmp" {
					f.Add(string(fl.Data))
				}
			}
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string) {
		file, ds := lang.Parse("f.llmp", []byte(src))
		if file == nil || ds.HasErrors() {
			return
		}
		p, ds := Check(file, &Options{Funcs: testFuncs(), Dir: dir})
		for _, d := range ds {
			if strings.HasPrefix(d.Message, "internal checker error") {
				t.Fatalf("%s\n%s", d.Message, src)
			}
		}
		if !ds.HasErrors() && p == nil {
			t.Fatal("no errors but no program")
		}
		if p != nil {
			_ = p.Dump()
			for _, s := range p.Steps {
				_ = s.Fingerprint()
			}
		}
	})
}
