package gemini

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// waitBatch polls until the job ends.
func waitBatch(t *testing.T, p *Provider, name string) *runtime.BatchStatus {
	t.Helper()
	ctx := simCtx(t)
	for {
		st, err := p.BatchStatus(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if st.State.Done() {
			return st
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("job did not end")
		}
	}
}

// A job goes inline under the inline limit and as an uploaded JSONL file
// above it; both come back with every key's reply, ids that need encoding
// included; cleanup deletes the input and results files.
func TestSimBatchInlineAndFile(t *testing.T) {
	for _, inline := range []int{0, 200} { // 200 bytes: every job takes the file path
		t.Run(fmt.Sprint("inline limit ", inline), func(t *testing.T) {
			var srv *sim.Server
			p := startSimServer(t, func(c *sim.Config) {
				c.BatchLatency = 20 * time.Millisecond
				c.KeepLog = true
			}, &srv)
			p.batchInline = inline
			keys := []string{"a", "b c", "d\nnewline", strings.Repeat("x", 300)}
			spec := &runtime.BatchJobSpec{Model: "gemini-2.5-flash-lite", DisplayName: "llmpipe-t-1"}
			for _, k := range keys {
				spec.Keys = append(spec.Keys, k)
				spec.Requests = append(spec.Requests, &runtime.Request{Model: spec.Model, Prompt: "Say hello to " + k, MaxOutputTokens: 100})
			}
			ctx := simCtx(t)
			name, err := p.CreateBatch(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if st := waitBatch(t, p, name); st.State != runtime.BatchSucceeded || st.Total != len(keys) || st.DisplayName != "llmpipe-t-1" {
				t.Fatalf("status %+v", st)
			}
			res, err := p.BatchResults(ctx, name, keys)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, r := range res {
				if r.Err != nil || r.Resp == nil || r.Resp.Text == "" || r.Resp.Usage.PromptTokens == 0 {
					t.Errorf("result %q: %+v %v", r.Key, r.Resp, r.Err)
				}
				got[r.Key] = true
			}
			for _, k := range keys {
				if !got[k] {
					t.Errorf("no result for key %q", k)
				}
			}
			if err := p.CleanupBatch(ctx, name); err != nil {
				t.Fatal(err)
			}
			uploads, deletes := 0, 0
			for _, e := range srv.Log() {
				if strings.Contains(e.Path, "/upload/") {
					uploads++
				}
				if e.Method == "DELETE" && strings.Contains(e.Path, "/files/") && e.Status == 200 {
					deletes++
				}
			}
			switch {
			case inline == 0 && (uploads != 0 || deletes != 0):
				t.Errorf("inline job: %d uploads, %d file deletes", uploads, deletes)
			case inline > 0 && (uploads == 0 || deletes != 2):
				t.Errorf("file job: %d uploads, %d file deletes (want input and results)", uploads, deletes)
			}
			l, err := p.ListBatches(ctx)
			if err != nil || len(l) != 1 || l[0].Name != name || l[0].DisplayName != "llmpipe-t-1" {
				t.Fatalf("list = %+v, %v", l, err)
			}
		})
	}
}

// A job the service does not know is a 404; an enqueued-token limit turns
// a create into a rate limit (wait for room).
func TestSimBatchErrors(t *testing.T) {
	p := startSim(t, func(c *sim.Config) {
		c.BatchLatency = time.Hour
		c.BatchEnqueuedTokens = map[string]int{"*": 10}
	})
	ctx := simCtx(t)
	_, err := p.BatchStatus(ctx, "batches/nosuchjob")
	var pe *runtime.Error
	if !errors.As(err, &pe) || pe.Status != 404 {
		t.Errorf("unknown job: %v", err)
	}
	spec := &runtime.BatchJobSpec{Model: "gemini-2.5-flash", DisplayName: "big", Keys: []string{"k"},
		Requests: []*runtime.Request{{Model: "gemini-2.5-flash", Prompt: strings.Repeat("word ", 40)}}}
	_, err = p.CreateBatch(ctx, spec)
	if runtime.ClassOf(err) != runtime.ClassRateLimit {
		t.Errorf("create over the enqueued-token limit: %v", err)
	}
	spec.Requests[0].Prompt = "hi"
	name, err := p.CreateBatch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CancelBatch(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if st := waitBatch(t, p, name); st.State != runtime.BatchCancelled {
		t.Errorf("after cancel: %+v", st)
	}
}
