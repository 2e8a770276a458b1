package runtime_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// Issue 19 item 14: a source row that does not parse is not an item. It
// goes to the failed sink with id null and _meta.source_line, is counted in
// the summary, and is never stored under an id (its line number used to be
// its id, which a real item may have). A row with bytes that are not UTF-8
// is repaired, and counted.
func TestMalformedRowIsNotAnItem(t *testing.T) {
	rows := `{"id":"1","text":"Person 1 is 30 years old"}
{"id":"oops","text":
{"id":"2","text":"Person 2 is 40 years old"}
{"id":"3","text":"Person ` + "\xff" + ` is 50 years old"}
`
	prog := compile(t, map[string]string{"main.llmp": personPipeline, "people.jsonl": rows})
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(prog.Dir, "run.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
		return textReply(`{"name":"X","age":5}`), nil
	}}
	opts := options(fp)
	opts.Store = st
	sum, err := runtime.Run(ctx, prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Malformed != 1 || sum.Repaired != 1 {
		t.Errorf("summary: malformed %d, repaired %d; want 1 and 1", sum.Malformed, sum.Repaired)
	}
	if sum.Succeeded != 3 {
		t.Errorf("summary: ok %d, want 3", sum.Succeeded)
	}
	bad := readJSONL(t, prog.Dir+"/out/bad.jsonl")
	if len(bad) != 1 {
		t.Fatalf("failed sink has %d records, want 1", len(bad))
	}
	if id, ok := bad[0]["id"]; !ok || id != nil {
		t.Errorf("malformed row: id = %#v, want null", id)
	}
	meta, _ := bad[0]["_meta"].(map[string]any)
	if meta["source_line"] != float64(2) {
		t.Errorf("malformed row: _meta = %v, want source_line 2", meta)
	}
	ok := readJSONL(t, prog.Dir+"/out/ok.jsonl")
	ids := map[any]bool{}
	for _, r := range ok {
		ids[r["id"]] = true
	}
	if len(ok) != 3 || !ids["1"] || !ids["2"] || !ids["3"] {
		t.Errorf("ok sink ids %v, want 1, 2, 3", ids)
	}
	// Nothing is stored for the row: line 2 is not an id.
	for _, id := range []string{"2", "oops", ""} {
		if res, err := st.Lookup(ctx, "extract", id, prog.Steps[0].Fingerprint()); err != nil || (res != nil && !res.OK) {
			t.Errorf("store holds a failure under %q: %+v, %v", id, res, err)
		}
	}
}
