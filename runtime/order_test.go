package runtime_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// Issue 19 item 19: a sink with order = "source" writes records in the
// order of the source, though items finish in another order; failures and
// items that never reach it do not hold it up.
func TestSinkOrderSource(t *testing.T) {
	pipeline := strings.Replace(personPipeline, `jsonl = "out/ok.jsonl"`, `jsonl = "out/ok.jsonl"
  order = "source"`, 1)
	pipeline = strings.Replace(pipeline, `jsonl = "out/bad.jsonl"`, `jsonl = "out/bad.jsonl"
  order = "source"`, 1)
	pipeline += `
sink as_done {
  from  = extract
  jsonl = "out/as_done.jsonl"
}
`
	const n = 60
	prog := compile(t, map[string]string{"main.llmp": pipeline, "people.jsonl": people(n)})
	synctest.Test(t, func(t *testing.T) {
		fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
			i, _ := strconv.Atoi(strings.TrimPrefix(req.Item, "p"))
			// Early items are slow: completion order is roughly reversed.
			time.Sleep(time.Duration(n-i) * time.Second)
			if i%7 == 0 {
				return nil, &runtime.Error{Class: runtime.ClassFatal, Status: 400, Message: "refused"}
			}
			return textReply(`{"name":"X","age":5}`), nil
		}}
		opts := options(fp)
		opts.Workers = 16
		sum, err := runtime.Run(context.Background(), prog, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Succeeded+sum.Failed != n {
			t.Fatalf("ok %d + failed %d, want %d", sum.Succeeded, sum.Failed, n)
		}
	})
	ids := func(file string) []int {
		var out []int
		for _, r := range readJSONL(t, prog.Dir+"/out/"+file) {
			i, _ := strconv.Atoi(strings.TrimPrefix(r["id"].(string), "p"))
			out = append(out, i)
		}
		return out
	}
	sorted := func(xs []int) bool {
		for i := 1; i < len(xs); i++ {
			if xs[i] < xs[i-1] {
				return false
			}
		}
		return true
	}
	ok, bad, done := ids("ok.jsonl"), ids("bad.jsonl"), ids("as_done.jsonl")
	if len(ok) != n-n/7 || len(bad) != n/7 {
		t.Fatalf("ok %d, bad %d records", len(ok), len(bad))
	}
	if !sorted(ok) || !sorted(bad) {
		t.Errorf("order = \"source\" sinks out of order:\nok  %v\nbad %v", ok, bad)
	}
	if sorted(done) {
		t.Errorf("the completion-order sink is in source order too (%v): the test shows nothing", done)
	}
}

// The window bounds what an ordered sink holds: a head item slower than
// everything keeps at most the window of items admitted, and the run
// still ends with every record in order.
func TestSinkOrderSourceSlowHead(t *testing.T) {
	pipeline := strings.Replace(personPipeline, `jsonl = "out/ok.jsonl"`, `jsonl = "out/ok.jsonl"
  order = "source"`, 1)
	prog := compile(t, map[string]string{"main.llmp": pipeline, "people.jsonl": people(300)})
	synctest.Test(t, func(t *testing.T) {
		fp := &fakeProvider{reply: func(req *runtime.Request, _ int) (*runtime.Response, error) {
			if req.Item == "p1" {
				time.Sleep(time.Hour)
			}
			return textReply(`{"name":"X","age":5}`), nil
		}}
		opts := options(fp)
		opts.Workers = 8
		if _, err := runtime.Run(context.Background(), prog, opts); err != nil {
			t.Fatal(err)
		}
	})
	recs := readJSONL(t, prog.Dir+"/out/ok.jsonl")
	if len(recs) != 300 {
		t.Fatalf("%d records, want 300", len(recs))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("p%d", i+1); r["id"] != want {
			t.Fatalf("record %d is %v, want %s", i, r["id"], want)
		}
	}
}
