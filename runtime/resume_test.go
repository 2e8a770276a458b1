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

// A repeated request within one item (the same failures, so the same
// feedback) reaches the model again instead of replaying the reply that just
// failed; and --retry-failed really calls again.
func TestRetriesAreNotReplayedFromTheResponseCache(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": strings.Replace(personPipeline,
		`models = rungs`, `models = ["gemini-2.5-flash-lite"]`, 1), "people.jsonl": people(1)})
	ctx := context.Background()
	run := func(retryFailed bool) (*runtime.Summary, int) {
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(prog.Dir, "run.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
			return textReply(`not json`), nil
		}}
		opts := options(fp)
		opts.Store, opts.RetryFailed = st, retryFailed
		sum, err := runtime.Run(ctx, prog, opts)
		if err != nil {
			t.Fatal(err)
		}
		return sum, len(fp.requests())
	}
	if sum, calls := run(false); calls != 4 || sum.CacheHits != 0 || sum.Failed != 1 {
		t.Fatalf("first run: %d calls, %d cache hits, %d failed; want 4 real calls", calls, sum.CacheHits, sum.Failed)
	}
	if sum, calls := run(false); calls != 0 || sum.Resumed != 1 {
		t.Fatalf("rerun: %d calls, %d resumed; the stored failure should stand", calls, sum.Resumed)
	}
	if sum, calls := run(true); calls != 4 || sum.CacheHits != 0 {
		t.Fatalf("--retry-failed: %d calls, %d cache hits; want 4 real calls", calls, sum.CacheHits)
	}
}

// The last attempt does not climb: the failed record names the model that
// was really called, and no escalation is counted.
func TestNoEscalationAfterTheLastAttempt(t *testing.T) {
	prog := compile(t, map[string]string{"main.llmp": strings.Replace(personPipeline,
		"attempts       = 4", "attempts       = 2", 1), "people.jsonl": people(1)})
	fp := &fakeProvider{reply: func(req *runtime.Request, n int) (*runtime.Response, error) {
		return textReply(`not json`), nil
	}}
	sum, err := runtime.Run(context.Background(), prog, options(fp))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Escalations) != 1 || sum.Escalations["gemini-2.5-flash-lite -> gemini-2.5-flash"] != 1 {
		t.Fatalf("escalations %v; want one climb, to the rung of the last attempt", sum.Escalations)
	}
	bad := readJSONL(t, prog.Dir+"/out/bad.jsonl")
	if m := bad[0]["_meta"].(map[string]any)["model"]; m != "gemini-2.5-flash" {
		t.Fatalf("failed record names %v, the model of the last attempt was gemini-2.5-flash", m)
	}
}
