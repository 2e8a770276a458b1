package llmpipe_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

const freshPipeline = `
source words {
  lines = "words.txt"
}

step answer {
  from   = words
  models = ["gemini-2.5-flash-lite"]
  prompt = "Define {{ item.text }}"
}
`

// Issue 19 item 1: --fresh on a run that cannot start (its source is gone)
// destroys nothing: the store keeps the earlier results. The reset waits
// until every source and sink is open.
func TestFreshRunThatCannotStartKeepsResults(t *testing.T) {
	p := writePipeline(t, map[string]string{"main.llmp": freshPipeline, "words.txt": "one\ntwo\n"})
	ctx := context.Background()
	if _, err := p.Run(ctx, llmpipe.RunOptions{Sim: true}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p.Path)
	if err := os.Rename(filepath.Join(dir, "words.txt"), filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, llmpipe.RunOptions{Sim: true, Settings: runtime.Settings{Fresh: true}}); err == nil {
		t.Fatal("a fresh run without its source succeeded")
	}
	st, err := store.Open(ctx, p.DefaultStorePath(), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{"1", "2"} {
		if res, err := st.Lookup(ctx, "answer", id, p.Program.Steps[0].Fingerprint()); err != nil || res == nil {
			t.Errorf("result of item %s after a --fresh run that could not start: %v, %v", id, res, err)
		}
	}

	// Once it can run, --fresh does start afresh.
	if err := os.Rename(filepath.Join(dir, "gone.txt"), filepath.Join(dir, "words.txt")); err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(ctx, llmpipe.RunOptions{Sim: true, Settings: runtime.Settings{Fresh: true}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != 0 || sum.Succeeded != 2 {
		t.Errorf("fresh run: resumed %d, ok %d; want 0 and 2", sum.Resumed, sum.Succeeded)
	}
}
