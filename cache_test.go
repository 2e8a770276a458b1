package llmpipe_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/catalog"
	"github.com/llmpipe/llmpipe/stdlib/gemini"
	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// These tests are issue 5's acceptance: shared-context caches, proved from
// the simulator's request log and counters.

// cachePipeline is a one-step pipeline over items.txt with a cache of
// doc.md; %s is the model list, %s the TTL.
const cachePipeline = `
source qs {
  lines = "items.txt"
}

cache doc {
  system = file("doc.md")
  ttl    = %s
}

step answer {
  from   = qs
  models = %s
  cache  = doc
  prompt = "Answer from the document: {{ item.text }}"
  check "not bad": trim(text) != "BAD"

  retry {
    attempts       = 3
    escalate_after = 1
    backoff        = 1ms .. 5ms
  }
}

sink out {
  from  = answer
  jsonl = "out/answers.jsonl"
}
`

// docText is about 2,500 simulator tokens: above its default minimum of
// 1,024, so it is cached.
var docText = strings.Repeat("The handbook says: expenses need a receipt. ", 230)

func cacheFiles(models, ttl string, items int) map[string]string {
	var b strings.Builder
	for i := 1; i <= items; i++ {
		fmt.Fprintf(&b, "question %d\n", i)
	}
	return map[string]string{
		"main.llmp": fmt.Sprintf(cachePipeline, ttl, models),
		"doc.md":    docText,
		"items.txt": b.String(),
	}
}

func isCacheCreate(e sim.LogEntry) bool {
	return e.Method == "POST" && strings.HasSuffix(e.Path, "/cachedContents")
}

func isCacheOp(e sim.LogEntry, method string) bool {
	return e.Method == method && strings.Contains(e.Path, "/cachedContents/")
}

// cacheLog sums up a log's cache traffic.
type cacheLog struct {
	creates  map[string][]sim.LogEntry // successful creates by model
	renews   int
	deleted  map[string]bool // names deleted with a 200
	notFound int             // generate calls that named a missing cache
}

func readCacheLog(log []sim.LogEntry) cacheLog {
	c := cacheLog{creates: map[string][]sim.LogEntry{}, deleted: map[string]bool{}}
	for _, e := range log {
		switch {
		case isCacheCreate(e) && e.Status == 200:
			c.creates[e.Model] = append(c.creates[e.Model], e)
		case isCacheOp(e, "PATCH") && e.Status == 200:
			c.renews++
		case isCacheOp(e, "DELETE") && e.Status == 200:
			c.deleted[e.Cache] = true
		case isGenerate(e) && e.Kind == "cache_not_found":
			c.notFound++
		}
	}
	return c
}

// checkAllDeleted asserts that every cache created was deleted by the run
// (not left to expire) and that the simulator holds none.
func checkAllDeleted(t *testing.T, c cacheLog, st sim.Stats) {
	t.Helper()
	for model, es := range c.creates {
		for _, e := range es {
			if !c.deleted[e.Cache] {
				t.Errorf("cache %s of %s was not deleted", e.Cache, model)
			}
		}
	}
	if st.Caches.Live != 0 || st.Caches.Expired != 0 {
		t.Errorf("simulator caches: %+v, want none live or expired", st.Caches)
	}
}

// runWithSim starts p against a fresh simulator and returns the run, for
// tests that need the simulator's stats or a context of their own.
func runWithSim(t *testing.T, ctx context.Context, p *llmpipe.Pipeline, cfg sim.Config, opts llmpipe.RunOptions) (*llmpipe.Run, *runtime.Summary, error) {
	t.Helper()
	cfg.KeepLog = true
	opts.Sim, opts.SimConfig = true, &cfg
	if opts.StorePath == "" && !opts.NoStore {
		opts.StorePath = filepath.Join(t.TempDir(), "store.db")
	}
	run, err := p.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	sum, err := run.Wait(ctx)
	return run, sum, err
}

func TestCacheOneCreatePerModelAndLadderClimbsLazily(t *testing.T) {
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite", "gemini-2.5-flash"]`, "1h", 8))
	cfg := sim.DefaultConfig()
	// Items 3 and 6 get a reply that fails the check on flash-lite, so
	// they climb to flash.
	cfg.Script = []sim.ScriptLine{
		{Item: "3", Model: lite, Text: "BAD"},
		{Item: "6", Model: lite, Text: "BAD"},
	}
	run, sum, err := runWithSim(t, context.Background(), p, cfg, llmpipe.RunOptions{Settings: runtime.Settings{Workers: 4}})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if sum.Succeeded != 8 {
		t.Fatalf("succeeded %d of 8", sum.Succeeded)
	}
	log := run.Sim.Log()
	c := readCacheLog(log)
	if len(c.creates[lite]) != 1 || len(c.creates[flash]) != 1 || len(c.creates) != 2 {
		t.Fatalf("creates by model: lite %d, flash %d (%d models); want one each", len(c.creates[lite]), len(c.creates[flash]), len(c.creates))
	}
	// flash's cache is created only once an item has climbed: after the
	// first check failure on flash-lite, and before flash's first call.
	flashCreate := c.creates[flash][0].Time
	var firstBad, firstFlash time.Time
	for _, e := range log {
		if !isGenerate(e) {
			continue
		}
		if e.Cache == "" {
			t.Errorf("call %s/%s named no cache", e.Item, e.Model)
		}
		if e.Model == lite && (e.Item == "3" || e.Item == "6") && (firstBad.IsZero() || e.Time.Before(firstBad)) {
			firstBad = e.Time
		}
		if e.Model == flash && (firstFlash.IsZero() || e.Time.Before(firstFlash)) {
			firstFlash = e.Time
		}
	}
	if !flashCreate.After(firstBad) || !flashCreate.Before(firstFlash) {
		t.Errorf("flash cache created at %v; want after the first failed lite reply (%v) and before flash's first call (%v)",
			flashCreate.Format(time.StampMicro), firstBad.Format(time.StampMicro), firstFlash.Format(time.StampMicro))
	}
	checkAllDeleted(t, c, run.Sim.Stats())
	if sum.CachesCreated != 2 {
		t.Errorf("summary caches created = %d, want 2", sum.CachesCreated)
	}
}

func TestCacheNoClimbNoSecondCache(t *testing.T) {
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite", "gemini-2.5-flash"]`, "1h", 4))
	run, _, err := runWithSim(t, context.Background(), p, sim.DefaultConfig(), llmpipe.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := readCacheLog(run.Sim.Log())
	if len(c.creates) != 1 || len(c.creates[lite]) != 1 {
		t.Errorf("creates: %v; want one, for flash-lite only", c.creates)
	}
}

func TestCacheRenewedThroughARunLongerThanItsTTL(t *testing.T) {
	t.Parallel()
	// 120 rpm for 10 items is ~5 s, and with 4 workers each request waits
	// in the pacer well past a third of the TTL after its Get: only a cache
	// renewed ahead of time by the manager is still there when it is sent.
	files := cacheFiles(`[slow]`, "2s", 10)
	files["main.llmp"] += `
model slow {
  id  = "gemini-2.5-flash-lite"
  rpm = 120
}
`
	p := writePipeline(t, files)
	cfg := sim.DefaultConfig()
	start := time.Now()
	run, sum, err := runWithSim(t, context.Background(), p, cfg, llmpipe.RunOptions{Settings: runtime.Settings{Workers: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 4*time.Second {
		t.Fatalf("run took %v; the test needs it to outlast the TTL twice", d)
	}
	if sum.Succeeded != 10 {
		t.Fatalf("succeeded %d of 10", sum.Succeeded)
	}
	c := readCacheLog(run.Sim.Log())
	if c.notFound != 0 {
		t.Errorf("%d requests named an expired cache", c.notFound)
	}
	if len(c.creates[lite]) != 1 {
		t.Errorf("creates = %d, want 1 (renewed, not re-created)", len(c.creates[lite]))
	}
	if c.renews < 2 {
		t.Errorf("renewals = %d, want at least 2 in ~5 s of a 2 s TTL", c.renews)
	}
	checkAllDeleted(t, c, run.Sim.Stats())
}

func TestCacheTTLFollowsACompressedSimulatorClock(t *testing.T) {
	t.Parallel()
	// A 1 h TTL on a simulator whose minute is 50 ms lasts 3 real seconds.
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite"]`, "1h", 14))
	cfg := sim.DefaultConfig()
	cfg.Window = 50 * time.Millisecond
	cfg.Latency, cfg.LatencySigma = 300*time.Millisecond, 0
	run, sum, err := runWithSim(t, context.Background(), p, cfg, llmpipe.RunOptions{QuotaWindow: cfg.Window, Settings: runtime.Settings{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c := readCacheLog(run.Sim.Log())
	if c.notFound != 0 || len(c.creates[lite]) != 1 || c.renews == 0 {
		t.Errorf("not found %d, creates %d, renewals %d; want 0, 1, some", c.notFound, len(c.creates[lite]), c.renews)
	}
	// Storage is billed for simulated time: a real second is 20 minutes.
	create := c.creates[lite][0]
	var lived time.Duration
	for _, e := range run.Sim.Log() {
		if isCacheOp(e, "DELETE") && e.Cache == create.Cache {
			lived = e.Time.Sub(create.Time) * time.Duration(time.Minute/cfg.Window)
		}
	}
	tok := float64(create.PromptTokens)
	want := tok*0.10/1e6 + tok*1.0/1e6*lived.Hours()
	if lived < time.Hour || math.Abs(sum.CacheCost-want) > 0.05*want {
		t.Errorf("cache cost %v; want %v for %v of simulated storage", sum.CacheCost, want, lived)
	}
	checkAllDeleted(t, c, run.Sim.Stats())
}

func TestCacheDeletedWhenTheRunIsCancelled(t *testing.T) {
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite"]`, "1h", 40))
	cfg := sim.DefaultConfig()
	cfg.Latency, cfg.LatencySigma = 200*time.Millisecond, 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	cancelOnFirst := runtime.ObserverFunc(func(e runtime.Event) {
		if e.Kind == runtime.EventItemSucceeded {
			once.Do(cancel)
		}
	})
	storePath := filepath.Join(t.TempDir(), "store.db")
	run, sum, _ := runWithSim(t, ctx, p, cfg, llmpipe.RunOptions{StorePath: storePath, Settings: runtime.Settings{Workers: 2, Observers: []runtime.Observer{cancelOnFirst}}})
	if sum == nil || sum.Outcome != runtime.OutcomeInterrupted || sum.Succeeded >= 40 {
		t.Fatalf("summary %+v; want an interrupted run", sum)
	}
	c := readCacheLog(run.Sim.Log())
	if len(c.creates[lite]) != 1 {
		t.Fatalf("creates = %d, want 1", len(c.creates[lite]))
	}
	checkAllDeleted(t, c, run.Sim.Stats())
	if recs := storedCaches(t, storePath); len(recs) != 0 {
		t.Errorf("store still records %v after the deletion", recs)
	}
}

func storedCaches(t *testing.T, path string) []runtime.CacheRecord {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Caches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestCacheLeftByACrashIsSweptOnTheNextStart(t *testing.T) {
	ctx := context.Background()
	cfg := sim.DefaultConfig()
	cfg.KeepLog = true
	srv, err := sim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	prov, err := gemini.New(ctx, gemini.Options{APIKey: "simulator", BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	// The crashed run: it created a cache and recorded it, then died.
	storePath := filepath.Join(t.TempDir(), "store.db")
	leftover, tokens, err := prov.CreateCache(ctx, lite, "llmpipe-main-doc", docText, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, storePath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCache(ctx, runtime.CacheRecord{Name: leftover, Cache: "doc", Model: lite, Tokens: tokens, Created: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite"]`, "1h", 3))
	sum, err := p.Run(ctx, llmpipe.RunOptions{Provider: prov, StorePath: storePath})
	if err != nil || sum.Succeeded != 3 {
		t.Fatalf("run: %v (%+v)", err, sum)
	}
	log := srv.Log()
	c := readCacheLog(log)
	if !c.deleted[leftover] {
		t.Errorf("the crashed run's cache %s was not deleted", leftover)
	}
	// The sweep comes before the run's own work.
	for _, e := range log {
		if isGenerate(e) || isCacheCreate(e) && e.Cache != leftover {
			t.Errorf("%s %s came before the sweep", e.Method, e.Path)
		}
		if isCacheOp(e, "DELETE") && e.Cache == leftover {
			break
		}
	}
	checkAllDeleted(t, c, srv.Stats())
	if recs := storedCaches(t, storePath); len(recs) != 0 {
		t.Errorf("store still records %v", recs)
	}
}

func TestCacheTooSmallIsSentInline(t *testing.T) {
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite"]`, "1h", 5))
	cfg := sim.DefaultConfig()
	cfg.MinCacheTokens = 100_000
	cfg.LogBodies = true
	ev := &runtime.EventLog{}
	run, sum, err := runWithSim(t, context.Background(), p, cfg, llmpipe.RunOptions{Settings: runtime.Settings{Observers: []runtime.Observer{ev}}})
	if err != nil || sum.Succeeded != 5 {
		t.Fatalf("run: %v (%+v)", err, sum)
	}
	fallbacks := 0
	for _, e := range ev.Events() {
		if e.Kind == runtime.EventCacheFallback {
			fallbacks++
		}
	}
	if fallbacks != 1 {
		t.Errorf("cache_fallback events = %d, want 1", fallbacks)
	}
	refused := 0
	for _, e := range run.Sim.Log() {
		switch {
		case isCacheCreate(e):
			if e.Status != 400 {
				t.Errorf("cache create answered %d, want the 400", e.Status)
			}
			refused++
		case isGenerate(e):
			if e.Cache != "" || !strings.Contains(string(e.Body), "expenses need a receipt") {
				t.Errorf("call %s: cache %q, want the content inline", e.Item, e.Cache)
			}
		}
	}
	if refused != 1 {
		t.Errorf("cache creates tried = %d, want 1", refused)
	}
	if sum.CacheCost != 0 || sum.CachesInline != 1 {
		t.Errorf("cache cost %v, inline %d; want 0 and 1", sum.CacheCost, sum.CachesInline)
	}
}

func TestCacheDeletedBehindTheRunsBackIsRecreated(t *testing.T) {
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite"]`, "1h", 8))
	ctx := context.Background()
	var (
		mu      sync.Mutex
		first   string
		done    int
		deleter func(string)
	)
	// After the third item, someone else deletes the cache.
	obs := runtime.ObserverFunc(func(e runtime.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case runtime.EventCacheCreated:
			if first == "" {
				first = e.Message
			}
		case runtime.EventItemSucceeded:
			if done++; done == 3 {
				deleter(first)
			}
		}
	})
	cfg := sim.DefaultConfig()
	cfg.KeepLog = true
	opts := llmpipe.RunOptions{Sim: true, SimConfig: &cfg, StorePath: filepath.Join(t.TempDir(), "s.db"), Settings: runtime.Settings{Workers: 1, Observers: []runtime.Observer{obs}}}
	run, err := p.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := gemini.New(ctx, gemini.Options{APIKey: "simulator", BaseURL: run.Sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	deleter = func(name string) {
		if err := prov.DeleteCache(ctx, name); err != nil {
			t.Errorf("deleting behind the run's back: %v", err)
		}
	}
	sum, err := run.Wait(ctx)
	if err != nil || sum.Succeeded != 8 {
		t.Fatalf("run: %v (%+v)", err, sum)
	}
	c := readCacheLog(run.Sim.Log())
	if len(c.creates[lite]) != 2 || c.notFound != 1 {
		t.Errorf("creates %d, requests that found the cache gone %d; want 2 and 1", len(c.creates[lite]), c.notFound)
	}
	if sum.Attempts != 8 || sum.Retries != 0 {
		t.Errorf("attempts %d retries %d; the vanished cache must not count as an attempt", sum.Attempts, sum.Retries)
	}
	for id, r := range readSink(t, filepath.Join(filepath.Dir(p.Path), "out", "answers.jsonl")) {
		if r.Meta.Attempts != 1 {
			t.Errorf("item %s: %d attempts, want 1", id, r.Meta.Attempts)
		}
	}
	checkAllDeleted(t, c, run.Sim.Stats())
}

// TestCacheCostArithmetic checks the summary's cost against the price table
// applied to the simulator's own token counts and the caches' lifetimes.
func TestCacheCostArithmetic(t *testing.T) {
	t.Parallel()
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash"]`, "1h", 10))
	cfg := sim.DefaultConfig()
	cfg.Latency, cfg.LatencySigma = 50*time.Millisecond, 0
	run, sum, err := runWithSim(t, context.Background(), p, cfg, llmpipe.RunOptions{Settings: runtime.Settings{Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	log := run.Sim.Log()
	u, calls := logTotals(t, log)
	price := mustPrice(t, flash)

	var creation, storage, slack float64
	created := map[string]sim.LogEntry{}
	for _, e := range log {
		switch {
		case isCacheCreate(e) && e.Status == 200:
			created[e.Cache] = e
			creation += float64(e.PromptTokens) * price.InputPerM / 1e6
		case isCacheOp(e, "DELETE") && e.Status == 200:
			c, ok := created[e.Cache]
			if !ok {
				t.Fatalf("deleted %s, never created", e.Cache)
			}
			lived := e.Time.Sub(c.Time)
			perHour := float64(c.PromptTokens) * price.StoragePerMHour / 1e6
			storage += perHour * lived.Hours()
			// The manager times the cache from its own side of the
			// exchanges: allow 100 ms each way.
			slack += perHour * (200 * time.Millisecond).Hours()
		}
	}
	if len(created) != 1 || creation == 0 {
		t.Fatalf("caches created: %d", len(created))
	}
	if !near(sum.Cost-sum.CacheCost, calls) {
		t.Errorf("calls cost %.10f, want %.10f from the log", sum.Cost-sum.CacheCost, calls)
	}
	if d := math.Abs(sum.CacheCost - (creation + storage)); d > slack {
		t.Errorf("cache cost %.12f, want creation %.12f + storage %.12f (±%.1g)", sum.CacheCost, creation, storage, slack)
	}
	saving := float64(u.CachedTokens) * (price.InputPerM - price.CachedPerM) / 1e6
	if u.CachedTokens == 0 || !near(sum.CachedSaving, saving) {
		t.Errorf("cached saving %.10f, want %.10f for %d cached tokens", sum.CachedSaving, saving, u.CachedTokens)
	}
	if !near(sum.CacheSaved, sum.CachedSaving-sum.CacheCost) || sum.CacheSaved <= 0 {
		t.Errorf("saved %.10f, want %.10f (and positive)", sum.CacheSaved, sum.CachedSaving-sum.CacheCost)
	}
}

func mustPrice(t *testing.T, id string) interp.Price {
	t.Helper()
	m, ok := catalog.Lookup(id)
	if !ok {
		t.Fatalf("%s not in the catalog", id)
	}
	return m.Price
}

// TestHandbookQAShowsTheSaving runs Example 2 of language.md as shipped.
func TestHandbookQAShowsTheSaving(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("paced by the example's TPM: about 5 s")
	}
	dir := t.TempDir()
	for _, f := range []string{"handbook_qa.llmp", "handbook.md", "questions.txt"} {
		b, err := os.ReadFile(filepath.Join("pipelines", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := load(t, filepath.Join(dir, "handbook_qa.llmp"))
	run, sum, err := runWithSim(t, context.Background(), p, sim.DefaultConfig(), llmpipe.RunOptions{})
	if err != nil || sum.Succeeded != 20 {
		t.Fatalf("run: %v (%+v)", err, sum)
	}
	c := readCacheLog(run.Sim.Log())
	if len(c.creates) != 1 || len(c.creates[flash]) != 1 || sum.CachesCreated != 1 {
		t.Errorf("creates %v, want one for flash", c.creates)
	}
	if sum.CacheSaved <= 0 {
		t.Errorf("caching saved %v; want a positive saving for 20 questions on one handbook", sum.CacheSaved)
	}
	checkAllDeleted(t, c, run.Sim.Stats())
}

func TestCacheNotCreatedWhenTheStoreAnswers(t *testing.T) {
	p := writePipeline(t, cacheFiles(`["gemini-2.5-flash-lite"]`, "1h", 5))
	storePath := filepath.Join(t.TempDir(), "store.db")
	if _, _, err := runWithSim(t, context.Background(), p, sim.DefaultConfig(), llmpipe.RunOptions{StorePath: storePath}); err != nil {
		t.Fatal(err)
	}
	// Again from scratch: every request was answered before.
	run, sum, err := runWithSim(t, context.Background(), p, sim.DefaultConfig(), llmpipe.RunOptions{StorePath: storePath, Settings: runtime.Settings{Fresh: true}})
	if err != nil || sum.Succeeded != 5 || sum.CacheHits != 5 {
		t.Fatalf("second run: %v (ok %d, response-cache hits %d)", err, sum.Succeeded, sum.CacheHits)
	}
	c := readCacheLog(run.Sim.Log())
	if len(c.creates) != 0 || sum.CacheCost != 0 {
		t.Errorf("creates %v, cache cost %v; a run answered from the store needs no cache", c.creates, sum.CacheCost)
	}
}
