package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzParse: Parse never panics and gives at most one diagnostic; when it
// succeeds, positions are consistent and Format keeps the meaning and is
// idempotent. Seeds: the example pipelines and every golden input.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("../pipelines/*.llmp")
	for _, p := range paths {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	golden, _ := filepath.Glob("testdata/parse/*.txtar")
	for _, p := range golden {
		if ar, err := txtar.ParseFile(p); err == nil {
			if in, ok := section(ar, "in.llmp"); ok {
				f.Add(in)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := Parse("fuzz.llmp", src)
		if file == nil {
			t.Fatal("nil file")
		}
		if len(diags) > 1 {
			t.Fatalf("%d diagnostics, want at most 1", len(diags))
		}
		if len(diags) == 1 {
			d := diags[0]
			if d.Range.Start.Offset < 0 || d.Range.End.Offset > len(src) || d.Range.End.Offset < d.Range.Start.Offset {
				t.Fatalf("diagnostic range %v..%v outside the source", d.Range.Start, d.Range.End)
			}
			var sink discard
			diags.Fprint(&sink, map[string][]byte{"fuzz.llmp": src}, PrintOptions{})
			return
		}
		checkPositions(t, file)
		checkFormat(t, file)
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
