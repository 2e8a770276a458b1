package llmpipe_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportDirection guards the layering cmd → stdlib → runtime → interp →
// lang: a package may import only layers below it, and only stdlib/gemini
// may import the Gemini SDK. Tests are exempt (they wire real pieces
// together), so only non-test files are read.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/llmpipe/llmpipe/"
	layer := func(pkg string) int {
		switch {
		case strings.HasPrefix(pkg, "lang"):
			return 0
		case strings.HasPrefix(pkg, "interp"):
			return 1
		case strings.HasPrefix(pkg, "runtime"):
			return 2
		case strings.HasPrefix(pkg, "stdlib"):
			return 3
		default:
			return 4 // cmd, the root API package, internal helpers
		}
	}
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		from := layer(dir)
		if dir == "." {
			from = 4
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			checked++
			if p == "google.golang.org/genai" || strings.HasPrefix(p, "google.golang.org/genai/") {
				if dir != "stdlib/gemini" {
					t.Errorf("%s imports %s: only stdlib/gemini may import the Gemini SDK", path, p)
				}
				continue
			}
			if !strings.HasPrefix(p, mod) {
				continue
			}
			to := strings.TrimPrefix(p, mod)
			if strings.HasPrefix(to, "internal/") {
				continue
			}
			if layer(to) > from && from < 4 {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down cmd → stdlib → runtime → interp → lang", path, from, to, layer(to))
			}
			if from < 4 && to == "" {
				t.Errorf("%s imports the root package", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d imports checked; the walk is not seeing the tree", checked)
	}
}
