package llmpipe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// TestSimSummaryMatchesTheLog runs the shipped example pipelines and checks
// the summary's tokens and cost against what the simulator logged, priced
// independently from the catalog, thinking tokens included.
func TestSimSummaryMatchesTheLog(t *testing.T) {
	src, err := filepath.Abs("pipelines")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"extract_people", "handbook_qa", "triage_tickets"} {
		t.Run(name, func(t *testing.T) {
			// A copy, so the run writes neither out/ nor .llmpipe/ into the repo.
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(dir, "out")); err != nil {
				t.Fatal(err)
			}
			p := load(t, filepath.Join(dir, name+".llmp"))
			opts := llmpipe.RunOptions{StorePath: filepath.Join(t.TempDir(), "store.db"), QuotaWindow: time.Second}
			sum, err, log := simRun(t, p, sim.DefaultConfig(), opts)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			usage, cost := logTotals(t, log)
			if sum.Attempts == 0 {
				t.Fatal("no attempts: nothing was compared")
			}
			if sum.Usage != usage {
				t.Errorf("summary tokens %+v, simulator log %+v", sum.Usage, usage)
			}
			// triage_tickets climbs to thinking models: their thoughts
			// must be billed (issue 17).
			if name == "triage_tickets" && usage.ThinkingTokens == 0 {
				t.Errorf("no thinking tokens in the log: the comparison leaves thinking out")
			}
			if !sameCost(sum.Cost-sum.CacheCost, cost, generateCalls(log)) {
				t.Errorf("summary cost $%.9f (of which caches $%.9f), simulator log prices calls to $%.9f", sum.Cost, sum.CacheCost, cost)
			}
			checkCacheCost(t, sum.CacheCost, log, len(p.Program.Caches) > 0)
		})
	}
}

// checkCacheCost recomputes what explicit caches cost from the log: the
// content once at the input price, plus storage for as long as each cache
// lived. The manager times a cache from create's reply to delete's reply,
// the log from request to request, so storage is compared with a second's
// worth of slack.
func checkCacheCost(t *testing.T, got float64, log []sim.LogEntry, wantCaches bool) {
	t.Helper()
	type life struct {
		model            string
		tokens           int
		created, deleted time.Time
	}
	caches := map[string]*life{}
	for _, e := range log {
		switch {
		case e.Method == "POST" && strings.HasSuffix(e.Path, "/cachedContents") && e.Status == 200:
			caches[e.Cache] = &life{model: e.Model, tokens: e.PromptTokens, created: e.Time}
		case e.Method == "DELETE" && e.Status == 200:
			if c := caches[e.Cache]; c != nil {
				c.deleted = e.Time
			}
		}
	}
	if wantCaches != (len(caches) > 0) {
		t.Fatalf("%d caches created; the pipeline has caches: %v", len(caches), wantCaches)
	}
	var creation, storage, slack float64
	for name, c := range caches {
		if c.deleted.IsZero() {
			t.Errorf("cache %s was never deleted", name)
			continue
		}
		m, ok := catalog.Lookup(c.model)
		if !ok {
			t.Fatalf("cache model %q not in the catalog", c.model)
		}
		creation += float64(c.tokens) * m.Price.InputPerM / 1e6
		storage += catalog.StorageCost(m.Price, c.tokens, c.deleted.Sub(c.created))
		slack += catalog.StorageCost(m.Price, c.tokens, time.Second)
	}
	t.Logf("caches: %d, creation $%.9f, storage $%.9f, summary $%.9f", len(caches), creation, storage, got)
	if d := got - creation - storage; d < -slack || d > slack {
		t.Errorf("summary cache cost $%.9f; log says creation $%.9f + storage $%.9f (± $%.9f)", got, creation, storage, slack)
	}
	if len(caches) > 0 && got <= creation {
		t.Errorf("summary cache cost $%.9f has no storage on top of creation $%.9f", got, creation)
	}
}
