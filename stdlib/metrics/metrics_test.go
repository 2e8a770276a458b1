package metrics_test

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/metrics"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

const pipelineSrc = `
source people {
  jsonl = "people.jsonl"
  id    = item.id
}

schema Person {
  name string "full name"
  age  int    "age in years"
}

step extract {
  from   = people
  models = ["gemini-2.5-flash-lite", "gemini-2.5-flash"]
  output = Person
  prompt = "Extract the person: {{ item.text }}"
  check age "must be plausible": output.age >= 0 && output.age <= 130
  retry {
    attempts       = 3
    escalate_after = 1
    backoff        = 1ms .. 2ms
  }
}

sink out {
  from  = extract
  jsonl = "out/people.jsonl"
}

config {
  workers = 8
}
`

// scrape reads /metrics into "name{labels}" → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the series of name whose labels contain every one of want.
func sum(m map[string]float64, name string, want ...string) float64 {
	var total float64
	for k, v := range m {
		if !strings.HasPrefix(k, name+"{") && k != name {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(k, w)
		}
		if ok {
			total += v
		}
	}
	return total
}

// TestScrapeMatchesSummary scrapes /metrics while a simulated run with
// invalid replies, failed checks, 5xx errors and 429s goes, and checks
// that the counters only grow and end equal to the run's summary.
func TestScrapeMatchesSummary(t *testing.T) {
	dir := t.TempDir()
	var items strings.Builder
	for i := range 80 {
		items.WriteString(`{"id":"p` + strconv.Itoa(i) + `","text":"Person ` + strconv.Itoa(i) + ` is ` + strconv.Itoa(20+i%50) + ` years old."}` + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "people.jsonl"), []byte(items.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "main.llmp")
	if err := os.WriteFile(path, []byte(pipelineSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := llmpipe.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.DefaultConfig()
	cfg.Seed = 7
	cfg.Latency = 20 * time.Millisecond
	cfg.Invalid = map[string]float64{"*": 0.4}
	cfg.Fail = map[string]float64{sim.Fault500: 0.05, sim.FaultBare429: 0.05}

	met := metrics.NewRun()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := p.Start(ctx, llmpipe.RunOptions{Sim: true, SimConfig: &cfg, Settings: runtime.Settings{Observers: []runtime.Observer{met}}})
	if err != nil {
		t.Fatal(err)
	}
	met.Attach(run.Runner.Stats, run.Runner.Workers)
	ts := httptest.NewServer(met.Handler())
	defer ts.Close()

	done := make(chan struct{})
	var (
		final *runtime.Summary
		werr  error
	)
	go func() {
		defer close(done)
		final, werr = run.Wait(ctx)
	}()
	prev := map[string]float64{}
	scrapes := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(10 * time.Millisecond):
		}
		m := scrape(t, ts.URL)
		scrapes++
		for k, v := range prev {
			if strings.Contains(k, "_total") && m[k] < v {
				t.Errorf("counter %s went down: %v → %v", k, v, m[k])
			}
		}
		if _, ok := m["llmpipe_workers"]; !ok {
			t.Errorf("scrape %d has no llmpipe_workers", scrapes)
		}
		prev = m
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if scrapes < 2 {
		t.Fatalf("only %d scrapes during the run", scrapes)
	}
	m := scrape(t, ts.URL)
	s := final

	eq := func(what string, got float64, want int64) {
		t.Helper()
		if got != float64(want) {
			t.Errorf("%s: metrics say %v, summary %d", what, got, want)
		}
	}
	eq("items ok", sum(m, metrics.NameItems, `outcome="ok"`), s.Succeeded)
	eq("items failed", sum(m, metrics.NameItems, `outcome="failed"`), s.Failed)
	eq("requests ok", sum(m, metrics.NameRequests, `outcome="ok"`), s.Succeeded)
	eq("requests rate_limit", sum(m, metrics.NameRequests, `outcome="rate_limit"`), s.RateLimited)
	for _, class := range []string{"transient", "invalid_output", "check_failed", "fatal"} {
		eq("requests "+class, sum(m, metrics.NameRequests, `outcome="`+class+`"`), s.ByClass[class])
	}
	eq("requests other than 429", sum(m, metrics.NameRequests)-sum(m, metrics.NameRequests, `outcome="rate_limit"`), s.Attempts)
	eq("input tokens", sum(m, metrics.NameTokens, `kind="input"`), int64(s.Usage.PromptTokens))
	eq("output tokens", sum(m, metrics.NameTokens, `kind="output"`), int64(s.Usage.OutputTokens))
	if got := sum(m, metrics.NameCost); math.Abs(got-s.Cost) > 1e-9 {
		t.Errorf("cost: metrics say %v, summary %v", got, s.Cost)
	}
	if s.RateLimited == 0 || s.ByClass["invalid_output"]+s.ByClass["check_failed"] == 0 || s.ByClass["transient"] == 0 {
		t.Errorf("the run did not exercise every outcome: %+v", s.ByClass)
	}
	// Every call is timed, 429s included.
	calls := sum(m, metrics.NameDuration+"_count")
	eq("timed calls", calls, s.Attempts+s.RateLimited)
}

// TestStoreMetrics: serve's metrics are the store's sums under the same
// names.
func TestStoreMetrics(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runID, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range []runtime.Attempt{
		{Model: "m1", Status: "ok", Cost: runtime.Dollars(0.25), Usage: runtime.Usage{PromptTokens: 10, OutputTokens: 5}},
		{Model: "m1", Status: "transient", Error: "503"},
		{Model: "m2", Status: "ok", Cost: runtime.Dollars(0.5), Usage: runtime.Usage{PromptTokens: 20, OutputTokens: 7, ThinkingTokens: 3}},
	} {
		a.RunID, a.Step, a.Item, a.Attempt = runID, "s", "i"+strconv.Itoa(i), 1
		if err := s.LogAttempt(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	for i, ok := range []bool{true, true, false} {
		r := &runtime.Result{RunID: runID, Step: "s", Item: "i" + strconv.Itoa(i), Fingerprint: "fp", OK: ok, Model: "m1"}
		if !ok {
			r.Failure = &runtime.Failure{Class: runtime.ClassTransient, Message: "503"}
		}
		if err := s.Commit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(metrics.Store(s.Overview))
	defer ts.Close()
	m := scrape(t, ts.URL)
	for k, want := range map[string]float64{
		`llmpipe_items_total{outcome="ok",step="s"}`:             2,
		`llmpipe_items_total{outcome="failed",step="s"}`:         1,
		`llmpipe_requests_total{model="m1",outcome="ok"}`:        1,
		`llmpipe_requests_total{model="m1",outcome="transient"}`: 1,
		`llmpipe_requests_total{model="m2",outcome="ok"}`:        1,
		`llmpipe_tokens_total{kind="input",model="m2"}`:          20,
		`llmpipe_tokens_total{kind="thinking",model="m2"}`:       3,
		`llmpipe_cost_dollars_total{model="m1"}`:                 0.25,
		`llmpipe_cost_dollars_total{model="m2"}`:                 0.5,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
}
