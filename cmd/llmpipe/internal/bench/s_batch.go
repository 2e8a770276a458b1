package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
)

// instantBatch is a Batch Mode service in process: a job has succeeded at
// its first poll, each request answered with a valid Answer. The results
// are built at create time, so a run's clock measures the client: turning
// results into records (parse, checks, store, sink).
type instantBatch struct {
	instant
	mu   sync.Mutex
	jobs map[string][]runtime.BatchResult
}

func (b *instantBatch) CreateBatch(ctx context.Context, spec *runtime.BatchJobSpec) (string, error) {
	res := make([]runtime.BatchResult, len(spec.Keys))
	for i, k := range spec.Keys {
		res[i] = runtime.BatchResult{Key: k, Index: i, Resp: &runtime.Response{
			Text:  fmt.Sprintf(`{"topic":"item %s","score":%d}`, k, i%10),
			Usage: runtime.Usage{PromptTokens: 12, OutputTokens: 9}}}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	name := fmt.Sprintf("batches/b%d", len(b.jobs)+1)
	b.jobs[name] = res
	return name, nil
}

func (b *instantBatch) BatchStatus(ctx context.Context, name string) (*runtime.BatchStatus, error) {
	b.mu.Lock()
	n := len(b.jobs[name])
	b.mu.Unlock()
	return &runtime.BatchStatus{Name: name, State: runtime.BatchSucceeded, Total: n, Succeeded: n}, nil
}

func (b *instantBatch) BatchResults(ctx context.Context, name string, keys []string) ([]runtime.BatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jobs[name], nil
}

func (b *instantBatch) CancelBatch(context.Context, string) error                  { return nil }
func (b *instantBatch) ListBatches(context.Context) ([]runtime.BatchStatus, error) { return nil, nil }
func (b *instantBatch) CleanupBatch(context.Context, string) error                 { return nil }

const batchBenchPipeline = `
schema Answer {
  topic string
  score int
}
source docs {
  jsonl = "items.jsonl"
  id    = item.id
}
step answer {
  from       = docs
  models     = "gemini-2.5-flash-lite"
  output     = Answer
  prompt     = "Classify: {{ item.text }}"
  batch_size = 50000
  check score "between 0 and 10": output.score >= 0 && output.score <= 10
  check topic "names the item": output.topic contains id
}
sink out {
  from  = answer
  jsonl = "out.jsonl"
}
`

// runS11 measures how fast the client turns batch results into records:
// each result parsed against the schema, checked, committed to the store
// (results, journal, response cache) and written to the sink.
func runS11(ctx context.Context, e *Env, r *Result) error {
	n := e.items(200_000)
	r.Setup = fmt.Sprintf("%d items in jobs of 50,000 through an in-process Batch Mode service that answers at the first poll; schema, two checks, one JSONL sink; with the store, then without", n)
	dir, err := e.newRunDir("S11")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var items strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&items, "{\"id\":\"i%07d\",\"text\":\"document %d about the weather\"}\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "items.jsonl"), []byte(items.String()), 0o644); err != nil {
		return err
	}
	path := filepath.Join(dir, "batch.llmp")
	if err := os.WriteFile(path, []byte(batchBenchPipeline), 0o644); err != nil {
		return err
	}
	p, err := llmpipe.Load(path)
	if err != nil {
		return err
	}
	if p.Program == nil {
		return fmt.Errorf("S11: the pipeline has errors:\n%v", p.Diagnostics)
	}
	for _, noStore := range []bool{false, true} {
		label := "store on"
		if noStore {
			label = "no store"
		}
		prov := &instantBatch{jobs: map[string][]runtime.BatchResult{}}
		base := resetPeakRSS()
		u0, t0 := readUsage(), time.Now()
		opts := llmpipe.RunOptions{Provider: prov, NoStore: noStore}
		opts.Batch, opts.BatchPoll = true, time.Millisecond
		run, err := p.Start(ctx, opts)
		if err != nil {
			return err
		}
		sum, err := run.Wait(ctx)
		elapsed := time.Since(t0)
		u1 := readUsage()
		if err != nil {
			return err
		}
		if sum.Succeeded != int64(n) || sum.BatchAnswered != int64(n) {
			return fmt.Errorf("S11: %d of %d items succeeded, %d answered by jobs", sum.Succeeded, n, sum.BatchAnswered)
		}
		os.Remove(filepath.Join(dir, "out.jsonl"))
		r.add(Figure{Name: "batch results processed, " + label, Value: float64(n) / elapsed.Seconds(), Unit: "items/s", Acceptable: AtLeast(50000)})
		r.add(Figure{Name: "client CPU per item, " + label, Value: perItem(u1.cpu-u0.cpu, int64(n)), Unit: "µs"})
		r.add(Figure{Name: "allocations per item, " + label, Value: float64((u1.mallocs - u0.mallocs) / uint64(n))})
		r.add(Figure{Name: "peak RSS growth, " + label, Value: float64(peakRSS()-base) / (1 << 20), Unit: "MB"})
	}
	r.note("the whole run from Start: reading the source, templating, building requests, the store's job records, then each result through the same parse/check/record path as an online reply; the Gemini results-file decoding is measured apart (BenchmarkReadResultLines in stdlib/gemini)")
	return nil
}
