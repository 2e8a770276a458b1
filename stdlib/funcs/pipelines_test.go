package funcs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/lang"
)

// TestPipelines checks every example pipeline with the real built-ins: each
// must parse and check without errors or warnings, and everything it reads
// must exist beside it.
func TestPipelines(t *testing.T) {
	files, err := filepath.Glob("../../pipelines/*.llmp")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no pipelines found")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, diags := lang.Parse(path, src)
			var prog *interp.Program
			if !diags.HasErrors() {
				var cd lang.Diagnostics
				prog, cd = interp.Check(f, &interp.Options{Funcs: All()})
				diags = append(diags, cd...)
			}
			if len(diags) > 0 {
				var b bytes.Buffer
				diags.Fprint(&b, map[string][]byte{path: src}, lang.PrintOptions{})
				t.Fatalf("diagnostics:\n%s", b.String())
			}
			if len(prog.Steps) == 0 || len(prog.Sinks) == 0 {
				t.Errorf("pipeline has %d steps and %d sinks", len(prog.Steps), len(prog.Sinks))
			}
			for _, r := range prog.Reads {
				if strings.ContainsAny(r, "*?[") {
					continue
				}
				if _, err := os.Stat(r); err != nil {
					t.Errorf("reads a missing file: %v", err)
				}
			}
			for _, c := range prog.Caches {
				if c.System == "" {
					t.Errorf("cache %s has no system text", c.Name)
				}
			}
		})
	}
}
