package llmpipe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// writePipeline writes files into a fresh directory and loads main.llmp.
func writePipeline(t *testing.T, files map[string]string) *llmpipe.Pipeline {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return load(t, filepath.Join(dir, "main.llmp"))
}

func load(t *testing.T, path string) *llmpipe.Pipeline {
	t.Helper()
	p, err := llmpipe.Load(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return p
}

// simRun runs p against an in-process simulator configured by cfg (with the
// request log kept in memory) and returns the summary, the run's error and
// every request the simulator saw.
func simRun(t *testing.T, p *llmpipe.Pipeline, cfg sim.Config, opts llmpipe.RunOptions) (*runtime.Summary, error, []sim.LogEntry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg.KeepLog = true
	opts.Sim = true
	opts.SimConfig = &cfg
	run, err := p.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	sum, err := run.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatalf("the run did not finish in time: %v", ctx.Err())
	}
	// Wait has closed the simulator; the kept log outlives Close.
	return sum, err, run.Sim.Log()
}

// isGenerate reports whether e is a generateContent call (not a cache
// create, renew or delete).
func isGenerate(e sim.LogEntry) bool {
	return strings.Contains(e.Path, ":generateContent") || strings.Contains(e.Path, ":streamGenerateContent")
}

// callsByItem groups the generate calls of a log by item, each list in the
// order the simulator admitted them.
func callsByItem(log []sim.LogEntry) map[string][]sim.LogEntry {
	out := map[string][]sim.LogEntry{}
	for _, e := range log {
		if isGenerate(e) {
			out[e.Item] = append(out[e.Item], e)
		}
	}
	for _, es := range out {
		sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
	}
	return out
}

// logUsage is one generate call's usage as the simulator billed it,
// thinking tokens included (billed as output).
func logUsage(e sim.LogEntry) runtime.Usage {
	return runtime.Usage{PromptTokens: e.PromptTokens, OutputTokens: e.OutputTokens, CachedTokens: e.CachedTokens, ThinkingTokens: e.ThinkingTokens}
}

// logTotals sums tokens and catalog cost over the successful generate calls
// of a log: what the provider would bill for the run.
func logTotals(t *testing.T, log []sim.LogEntry) (runtime.Usage, float64) {
	t.Helper()
	var u runtime.Usage
	var cost float64
	for _, e := range log {
		if !isGenerate(e) || e.Status != 200 {
			continue
		}
		m, ok := catalog.Lookup(e.Model)
		if !ok {
			t.Fatalf("model %q of a logged call is not in the catalog", e.Model)
		}
		cu := logUsage(e)
		u = u.Add(cu)
		cost += m.Cost(cu).Dollars()
	}
	return u, cost
}

// promptOf is the text of every part of a logged request body (needs
// Config.LogBodies).
func promptOf(t *testing.T, e sim.LogEntry) string {
	t.Helper()
	if len(e.Body) == 0 {
		t.Fatalf("log entry for %s call %d has no body (LogBodies off?)", e.Item, e.Call)
	}
	var body struct {
		Contents []struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatalf("request body of %s call %d: %v", e.Item, e.Call, err)
	}
	var b strings.Builder
	for _, c := range body.Contents {
		for _, p := range c.Parts {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// sinkRecord is the part of a JSONL sink line the tests read.
type sinkRecord struct {
	ID    string `json:"id"`
	Error *struct {
		Class   string `json:"class"`
		Message string `json:"message"`
		Errors  []struct {
			Attempt int    `json:"attempt"`
			Model   string `json:"model"`
			Class   string `json:"class"`
			Message string `json:"message"`
			Fields  []struct {
				Field string `json:"field"`
			} `json:"fields"`
		} `json:"errors"`
		LastReply string `json:"last_reply"`
	} `json:"error"`
	Meta struct {
		Model    string  `json:"model"`
		Rung     int     `json:"rung"`
		Attempts int     `json:"attempts"`
		Cost     float64 `json:"cost"`
	} `json:"_meta"`
}

// readSink reads a JSONL sink into records by id; a missing file is empty.
func readSink(t *testing.T, path string) map[string]sinkRecord {
	t.Helper()
	out := map[string]sinkRecord{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r sinkRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		out[r.ID] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameCost reports whether the runner's cost agrees with one priced from
// the log. The runner adds up whole nano-dollars per call, so each of the
// calls may be off by half a nano-dollar.
func sameCost(runner, log float64, calls int) bool {
	d := runner - log
	if d < 0 {
		d = -d
	}
	return d <= 1e-12+0.5e-9*float64(calls)
}

// generateCalls counts the successful generate calls of a log.
func generateCalls(log []sim.LogEntry) int {
	n := 0
	for _, e := range log {
		if isGenerate(e) && e.Status == 200 {
			n++
		}
	}
	return n
}

// near reports whether two dollar amounts agree to floating-point noise.
func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-12+1e-9*max(a, b)
}
