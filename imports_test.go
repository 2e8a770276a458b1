package llmpipe_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportDirection guards the layering
//
//	cmd/llmpipe, root → stdlib → runtime → interp → lang
//
// a package may import only layers below it (or its own layer); only
// stdlib/gemini may import the Gemini SDK; lang imports nothing but the
// standard library and participle (the language builds on its own); and
// the shared helpers under the root internal/ are importable by every
// layer, so they import only the standard library and each other.
// Helpers of the command alone live under cmd/llmpipe/internal/ and sit at
// the command's layer. Tests are exempt (they wire real pieces together),
// so only non-test files are read.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/llmpipe/llmpipe/"
	const (
		layerInternal = -1 // root internal/: below lang, importable by all
		layerTop      = 4  // cmd, the root API package
	)
	layer := func(pkg string) int {
		switch {
		case pkg == "internal" || strings.HasPrefix(pkg, "internal/"):
			return layerInternal
		case strings.HasPrefix(pkg, "lang"):
			return 0
		case strings.HasPrefix(pkg, "interp"):
			return 1
		case strings.HasPrefix(pkg, "runtime"):
			return 2
		case strings.HasPrefix(pkg, "stdlib"):
			return 3
		default:
			return layerTop // cmd/..., cmd/llmpipe/internal/..., the root package
		}
	}
	// Third-party imports lang may use; everything else there is std.
	langThirdParty := []string{"github.com/alecthomas/participle/"}
	isStd := func(p string) bool {
		first, _, _ := strings.Cut(p, "/")
		return !strings.Contains(first, ".")
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
			from = layerTop
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
			if isStd(p) {
				continue
			}
			if !strings.HasPrefix(p, mod) {
				switch from {
				case layerInternal:
					t.Errorf("%s imports %s: the shared internal/ helpers import only the standard library", path, p)
				case 0:
					ok := false
					for _, allowed := range langThirdParty {
						ok = ok || strings.HasPrefix(p+"/", allowed)
					}
					if !ok {
						t.Errorf("%s imports %s: lang imports only the standard library and participle", path, p)
					}
				}
				continue
			}
			to := strings.TrimPrefix(p, mod)
			if from < layerTop && to == "" {
				t.Errorf("%s imports the root package", path)
				continue
			}
			if layer(to) > from && from < layerTop {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down cmd → stdlib → runtime → interp → lang → internal", path, from, to, layer(to))
			}
			if strings.HasPrefix(to, "cmd/") && !strings.HasPrefix(dir, "cmd/") {
				t.Errorf("%s imports %s: only the command imports its own packages", path, to)
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
