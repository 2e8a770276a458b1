package llmpipe_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

const batchSimPipeline = `
source docs {
  jsonl = "in.jsonl"
  id    = item.id
}
schema Person {
  name string
  age  int
}
ladder l = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]
step extract {
  from   = docs
  models = l
  output = Person
  prompt = "Extract the person: {{ item.text }}"
  retry {
    attempts = 4
  }
}
sink out {
  from  = extract
  jsonl = "out.jsonl"
}
`

func batchSimFiles(n int) map[string]string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "{\"id\":\"p%04d\",\"text\":\"Person number %d is called Ann Lee and is %d years old.\"}\n", i, i, 20+i%50)
	}
	return map[string]string{"main.llmp": batchSimPipeline, "in.jsonl": b.String()}
}

func batchSimConfig() sim.Config {
	cfg := sim.DefaultConfig()
	cfg.Seed = 7
	cfg.BatchLatency = 40 * time.Millisecond
	cfg.Latency = 0
	cfg.Window = 100 * time.Millisecond // the quota minute, compressed
	return cfg
}

// The same 2,000 valid items cost half as much through Batch Mode as
// online, every item answered by a job.
func TestSimBatchCostIsHalfOfOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 items twice")
	}
	const n = 2000
	online, err, _ := simRun(t, writePipeline(t, batchSimFiles(n)), batchSimConfig(), llmpipe.RunOptions{NoStore: true, QuotaWindow: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opts := llmpipe.RunOptions{QuotaWindow: 100 * time.Millisecond}
	opts.Batch, opts.BatchPoll = true, 20*time.Millisecond
	batch, err, log := simRun(t, writePipeline(t, batchSimFiles(n)), batchSimConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if online.Succeeded != n || batch.Succeeded != n {
		t.Fatalf("succeeded online %d, batch %d", online.Succeeded, batch.Succeeded)
	}
	if batch.BatchAnswered != n {
		t.Errorf("batch answered %d of %d", batch.BatchAnswered, n)
	}
	for _, e := range log {
		if isGenerate(e) {
			t.Fatalf("an online call in a batch run with every reply valid: %+v", e)
		}
	}
	if online.Usage != batch.Usage {
		t.Errorf("usage online %+v, batch %+v: the same requests should cost the same tokens", online.Usage, batch.Usage)
	}
	if math.Abs(batch.Cost-online.Cost/2) > 1e-6*online.Cost {
		t.Errorf("batch cost $%.6f, want half of online $%.6f", batch.Cost, online.Cost)
	}
}

// With a fifth of the replies invalid: every item exactly once in the sink,
// the invalid ones escalated online, the job-answered attempts billed at
// half price and the online ones at full price.
func TestSimBatchInvalidEscalateOnline(t *testing.T) {
	const n = 400
	cfg := batchSimConfig()
	cfg.Invalid = map[string]float64{"*": 0.2}
	opts := llmpipe.RunOptions{QuotaWindow: 100 * time.Millisecond}
	opts.Batch, opts.BatchPoll = true, 20*time.Millisecond
	p := writePipeline(t, batchSimFiles(n))
	sum, err, log := simRun(t, p, cfg, opts)
	if err != nil && sum.Failed == 0 {
		t.Fatal(err)
	}
	recs := readJSONLFile(t, filepath.Join(p.Program.Dir, "out.jsonl"))
	failed := readJSONLFile(t, filepath.Join(p.Program.Dir, "out", "extract.failed.jsonl"))
	seen := map[string]int{}
	for _, r := range append(recs, failed...) {
		seen[fmt.Sprint(r["id"])]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct items in the sinks, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s written %d times", id, c)
		}
	}
	var inner, online int
	var want float64
	for _, e := range log {
		m, ok := catalog.Lookup(e.Model)
		switch {
		case e.Method == "BATCH" && e.Status == 200 && ok:
			inner++
			want += catalog.Cost(catalog.BatchPrice(m.Price), logUsage(e)).Dollars()
		case isGenerate(e) && e.Status == 200 && ok:
			online++
			want += m.Cost(logUsage(e)).Dollars()
		}
	}
	if inner != n {
		t.Errorf("%d requests answered inside jobs, want %d", inner, n)
	}
	if online == 0 || int64(online) < sum.ByClass["invalid_output"]/2 {
		t.Errorf("%d online calls for %d invalid replies", online, sum.ByClass["invalid_output"])
	}
	if math.Abs(sum.Cost-want) > 1e-6 {
		t.Errorf("cost $%.6f, want $%.6f (jobs at half price, follow-ups at full)", sum.Cost, want)
	}
}

// readJSONLFile reads every line of a JSONL file (none when it is missing).
func readJSONLFile(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		out = append(out, m)
	}
	return out
}

// Large jobs take the file path (upload, results file, files deleted once
// the results are stored); an enqueued-token limit below what the work
// needs splits it into jobs that wait for room, and a 429 on create (the
// service's own limit, tighter than the catalog's) waits too.
func TestSimBatchFilePathAndRoom(t *testing.T) {
	const n = 120
	cfg := batchSimConfig()
	cfg.BatchEnqueuedTokens = map[string]int{"*": 900} // about 40 requests
	files := batchSimFiles(n)
	// The catalog's tier-1 limit is far above the simulator's: creates
	// past 900 tokens get 429 and must wait for jobs to end.
	opts := llmpipe.RunOptions{QuotaWindow: 100 * time.Millisecond, BatchInlineLimit: 2000}
	opts.Batch, opts.BatchPoll = true, 20*time.Millisecond
	sum, err, log := simRun(t, writePipeline(t, files), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Succeeded != n || sum.BatchAnswered != n {
		t.Fatalf("succeeded %d, batch answered %d", sum.Succeeded, sum.BatchAnswered)
	}
	var uploads, deletes, refused, created int
	for _, e := range log {
		switch {
		case strings.Contains(e.Path, "/upload/") && e.Status == 200:
			uploads++
		case e.Method == "DELETE" && strings.Contains(e.Path, "/files/") && e.Status == 200:
			deletes++
		case strings.HasSuffix(e.Path, ":batchGenerateContent") && e.Status == 429:
			refused++
		case strings.HasSuffix(e.Path, ":batchGenerateContent") && e.Status == 200:
			created++
		}
	}
	if created < 3 || refused == 0 {
		t.Errorf("%d jobs created, %d creates refused: want several jobs, some waiting for room", created, refused)
	}
	if uploads < created || deletes != 2*created {
		t.Errorf("%d jobs: %d uploads, %d file deletes (want an input file each, then input and results deleted)", created, uploads, deletes)
	}
}
