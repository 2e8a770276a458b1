package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

const censusPipeline = `
source rows {
  jsonl = "rows.jsonl"
  id    = item.id
  where = item.keep
}

step first {
  from   = rows
  models = ["gemini-2.5-flash-lite"]
  prompt = "Say {{ item.id }}"
}

step second {
  from   = first
  where  = first != "skip"
  models = ["gemini-2.5-flash-lite"]
  prompt = "Again {{ first }}"
}

sink out {
  from  = second
  jsonl = "out/second.jsonl"
}
`

// Issue 19 item 10: Census counts the items as the run did: rows the
// source's where drops are not counted, items a step's where skips are
// skipped, a malformed row is failed, and what a run would still do is
// pending, at the step and the steps after it.
func TestCensusAgreesWithTheRun(t *testing.T) {
	rows := `{"id":"a","keep":true}
{"id":"b","keep":true}
{"id":"dropped","keep":false}
{"id":"c","keep":true
{"id":"s","keep":true}
`
	prog := compile(t, map[string]string{"main.llmp": censusPipeline, "rows.jsonl": rows})
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(prog.Dir, "run.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	census := func() map[string]runtime.StepCensus {
		t.Helper()
		got, err := runtime.Census(ctx, prog, stdlib.OpenSource, st.Lookup)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]runtime.StepCensus{}
		for k, v := range got {
			out[k] = *v
		}
		return out
	}
	before := census()
	if want := (runtime.StepCensus{Failed: 1, Malformed: 1, Pending: 3}); before["first"] != want {
		t.Errorf("before the run, first: %+v, want %+v", before["first"], want)
	}
	if want := (runtime.StepCensus{Pending: 3}); before["second"] != want {
		t.Errorf("before the run, second: %+v, want %+v (an upper bound)", before["second"], want)
	}

	fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
		if strings.Contains(req.Prompt, "Say s") {
			return textReply("skip"), nil
		}
		return textReply("fine"), nil
	}}
	opts := options(fp)
	opts.Store = st
	sum, err := runtime.Run(ctx, prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	after := census()
	first, second := after["first"], after["second"]
	if want := (runtime.StepCensus{Done: 3, Failed: 1, Malformed: 1}); first != want {
		t.Errorf("after the run, first: %+v, want %+v", first, want)
	}
	if want := (runtime.StepCensus{Done: 2, Skipped: 1}); second != want {
		t.Errorf("after the run, second: %+v, want %+v", second, want)
	}
	if done, failed, skipped := first.Done+second.Done, first.Failed+second.Failed, first.Skipped+second.Skipped; int64(done) != sum.Succeeded || int64(failed) != sum.Failed || int64(skipped) != sum.Skipped {
		t.Errorf("census done %d failed %d skipped %d; summary %d %d %d", done, failed, skipped, sum.Succeeded, sum.Failed, sum.Skipped)
	}

	// A new row is pending at both steps.
	f, err := os.OpenFile(filepath.Join(prog.Dir, "rows.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"new","keep":true}` + "\n")
	f.Close()
	if got := census(); got["first"].Pending != 1 || got["second"].Pending != 1 {
		t.Errorf("after a new row: %+v", got)
	}
}
