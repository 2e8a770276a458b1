package llmpipe_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/llmpipe/llmpipe"
)

// TestExamplePipelineTests runs the test blocks of every example pipeline:
// each has some, and all pass.
func TestExamplePipelineTests(t *testing.T) {
	paths, err := filepath.Glob("pipelines/*.llmp")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no pipelines: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, err := llmpipe.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			results := p.Test(context.Background(), llmpipe.TestOptions{})
			if len(results) == 0 {
				t.Fatal("no test blocks")
			}
			for _, r := range results {
				if !r.Passed() {
					t.Errorf("test %s failed: %s %+v", r.Test.Name, r.Error, r.Failures)
				}
			}
		})
	}
}
