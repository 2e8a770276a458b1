package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// An item edited under the same id is called again on the next run; the
// others resume from the store without calls.
func TestResumeRerunsAnEditedItem(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": people(3)})
	ctx := context.Background()
	run := func() (*runtime.Summary, []*runtime.Request) {
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(prog.Dir, "run.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
			return textReply(`{"name":"X","age":5}`), nil
		}}
		opts := options(fp)
		opts.Store = st
		opts.NoCache = true // prove the resume, not the response cache
		sum, err := runtime.Run(ctx, prog, opts)
		if err != nil {
			t.Fatal(err)
		}
		return sum, fp.requests()
	}
	if sum, reqs := run(); len(reqs) != 3 || sum.Succeeded != 3 {
		t.Fatalf("first run: %d calls, %d ok", len(reqs), sum.Succeeded)
	}
	if sum, reqs := run(); len(reqs) != 0 || sum.Resumed != 3 {
		t.Fatalf("unchanged rerun: %d calls, %d resumed", len(reqs), sum.Resumed)
	}
	path := filepath.Join(prog.Dir, "people.jsonl")
	data, _ := os.ReadFile(path)
	edited := strings.Replace(string(data), "Person 2 is", "Person 2, edited, is", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, reqs := run()
	if len(reqs) != 1 || reqs[0].Item != "p2" || sum.Resumed != 2 {
		t.Fatalf("after editing p2: calls %v, resumed %d", models(reqs), sum.Resumed)
	}
	if got := len(readJSONL(t, prog.Dir+"/out/ok.jsonl")); got != 3 {
		t.Fatalf("sink holds %d records after the resumed run, want 3", got)
	}
}
