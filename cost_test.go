package llmpipe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// TestMetaCostIsExact: every record's _meta.cost is dollars rounded to the
// nano-dollar, with no float noise (0.000013400000000000002), and the
// sinks' costs add up exactly to what the run spent on calls (issue 19
// item 18).
func TestMetaCostIsExact(t *testing.T) {
	dir := copyPipelines(t)
	p := load(t, filepath.Join(dir, "extract_people.llmp"))
	cfg := sim.DefaultConfig()
	cfg.Invalid = map[string]float64{"*": 0.3} // retries: costs that add up over attempts
	opts := llmpipe.RunOptions{StorePath: filepath.Join(t.TempDir(), "store.db"), QuotaWindow: time.Second}
	sum, err, _ := simRun(t, p, cfg, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var total runtime.Money
	n := 0
	for _, name := range []string{"people.jsonl", "people.failed.jsonl"} {
		for _, cost := range metaCosts(t, filepath.Join(dir, "out", name)) {
			if _, frac, ok := strings.Cut(cost, "."); strings.ContainsAny(cost, "eE") || ok && len(frac) > 9 {
				t.Errorf("%s: _meta.cost %s is not whole nano-dollars", name, cost)
			}
			var m runtime.Money
			if err := m.UnmarshalJSON([]byte(cost)); err != nil {
				t.Fatal(err)
			}
			total += m
			n++
		}
	}
	if n == 0 || sum.Attempts <= int64(n) {
		t.Fatalf("%d records, %d attempts: want retries to add up", n, sum.Attempts)
	}
	if want := runtime.Dollars(sum.Cost - sum.CacheCost); total != want {
		t.Errorf("sinks' _meta.cost add up to %s, the run spent %s on calls", total, want)
	}

	// Run again on the same store: every record is delivered from the
	// store, marked so, with its original cost (issue 17).
	again, err, _ := simRun(t, load(t, filepath.Join(dir, "extract_people.llmp")), cfg, opts)
	if err != nil || again.Attempts != 0 || again.Resumed != int64(n) {
		t.Fatalf("second run: %v, %d attempts, %d resumed; want every record from the store", err, again.Attempts, again.Resumed)
	}
	var redelivered runtime.Money
	for _, name := range []string{"people.jsonl", "people.failed.jsonl"} {
		for _, line := range metaLines(t, filepath.Join(dir, "out", name)) {
			if !line.FromStore || line.Cached {
				t.Errorf("%s: a re-delivered record has from_store %v, cached %v", name, line.FromStore, line.Cached)
			}
			redelivered += line.Cost
		}
	}
	if redelivered != total {
		t.Errorf("re-delivered records cost %s, the first delivery %s", redelivered, total)
	}
}

type metaLine struct {
	Cost      runtime.Money `json:"cost"`
	Cached    bool          `json:"cached"`
	FromStore bool          `json:"from_store"`
}

// metaLines returns each record's _meta.
func metaLines(t *testing.T, path string) []metaLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []metaLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var rec struct {
			Meta metaLine `json:"_meta"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec.Meta)
	}
	return out
}

// copyPipelines copies pipelines/ to a temporary directory without out/,
// so a run writes neither out/ nor .llmpipe/ into the repository.
func copyPipelines(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("pipelines")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// metaCosts returns each record's _meta.cost as written, digit for digit.
func metaCosts(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Meta struct {
				Cost json.RawMessage `json:"cost"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, string(rec.Meta.Cost))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSinkCostsAddUpAfterACrash: a run cancelled with calls in flight
// (their replies paid and stored, their items unfinished), then resumed:
// the sinks' _meta.cost add up to the store's SPENT (issue 17).
func TestSinkCostsAddUpAfterACrash(t *testing.T) {
	dir := copyPipelines(t)
	path := filepath.Join(dir, "extract_people.llmp")
	storePath := filepath.Join(t.TempDir(), "store.db")
	cfg := sim.DefaultConfig()
	cfg.Invalid = map[string]float64{"*": 0.3}
	cfg.Latency = 20 * time.Millisecond
	cfg.KeepLog = true

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	var done atomic.Int64
	opts := llmpipe.RunOptions{StorePath: storePath, QuotaWindow: time.Second, Sim: true, SimConfig: &cfg}
	opts.Observers = []runtime.Observer{runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventItemSucceeded && done.Add(1) >= 10 {
			once.Do(cancel) // a hard stop with calls in flight
		}
	})}
	r, err := load(t, path).Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.Wait(ctx)
	if first == nil || first.Succeeded+first.Failed >= 30 {
		t.Fatalf("the first run was not cut short: %+v", first)
	}

	opts = llmpipe.RunOptions{StorePath: storePath, QuotaWindow: time.Second}
	if _, err, _ := simRun(t, load(t, path), cfg, opts); err != nil {
		t.Fatalf("resume: %v", err)
	}
	var sinks runtime.Money
	for _, name := range []string{"people.jsonl", "people.failed.jsonl"} {
		for _, l := range metaLines(t, filepath.Join(dir, "out", name)) {
			sinks += l.Cost
		}
	}
	st, err := store.Open(context.Background(), storePath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	status, err := st.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var spent float64
	for _, s := range status.Steps {
		spent += s.Spent
	}
	if d := sinks.Dollars() - spent; d > 1e-9 || d < -1e-9 {
		t.Errorf("the sinks' _meta.cost add up to $%s, the store spent $%.9f", sinks, spent)
	}
}
