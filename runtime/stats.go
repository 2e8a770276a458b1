package runtime

import (
	"maps"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a run's counters. It is safe to take at any time
// from any goroutine (Runner.Stats).
type Stats struct {
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Total is the work the sources hold: their items times the steps that
	// read them directly (-1 until counted); Done counts that work finished.
	Total int   `json:"total"`
	Done  int64 `json:"done"`

	Read      int64 `json:"read"`      // items read from sources
	Succeeded int64 `json:"succeeded"` // terminal successes, all steps
	Failed    int64 `json:"failed"`    // terminal failures, all steps
	Skipped   int64 `json:"skipped"`   // a step's where was false, or middleware skipped
	// BudgetStopped counts items the budget could not afford at their
	// next rung: left undone, for the next run.
	BudgetStopped int64 `json:"budget_stopped"`
	Resumed       int64 `json:"resumed"` // taken from the store without calls
	// Malformed counts source rows that did not parse: not items, so they
	// have no id; each is also a failure (in Failed) of the steps reading
	// its source. Repaired counts rows read with U+FFFD in place of bytes
	// that were not UTF-8.
	Malformed int64 `json:"malformed"`
	// Retryable counts the failures (in Failed) that were transient only
	// (see Runner docs): a plain re-run of the same command retries them.
	Retryable int64 `json:"failed_retryable"`
	Repaired  int64 `json:"repaired_utf8"`
	InFlight  int64 `json:"in_flight"`
	// Workers is the pool's size when the snapshot was taken (workers =
	// auto changes it during the run).
	Workers int `json:"workers"`

	Attempts    int64            `json:"attempts"`     // calls made (and response-cache hits)
	Retries     int64            `json:"retries"`      // attempts after the first, all causes
	RateLimited int64            `json:"rate_limited"` // 429s received
	CacheHits   int64            `json:"cache_hits"`   // replies served from the response cache
	Recovered   int64            `json:"recovered"`    // replies parsed after stripping fences or prose
	ByClass     map[string]int64 `json:"failures_by_class"`
	Escalations map[string]int64 `json:"escalations"` // "from -> to"
	AnsweredBy  map[string]int64 `json:"answered_by"` // successes by model

	Usage       Usage   `json:"usage"`
	Cost        float64 `json:"cost"`
	TopRungCost float64 `json:"top_rung_cost"` // the same answers priced at each step's strongest model
	// CachedSaving is what cached prompt tokens saved against paying the
	// full input price for them (before the caches' own costs).
	CachedSaving float64 `json:"cached_saving"`

	LatencyP50 time.Duration `json:"latency_p50_ns"` // per call
	LatencyP90 time.Duration `json:"latency_p90_ns"`
	LatencyP99 time.Duration `json:"latency_p99_ns"`

	Models map[string]ModelStats `json:"models,omitempty"`

	// BatchAnswered counts attempts answered by batch jobs; BatchJobs
	// lists the run's jobs with their state and counts.
	BatchAnswered int64           `json:"batch_answered,omitempty"`
	BatchJobs     []BatchJobStats `json:"batch_jobs,omitempty"`
}

// ModelStats is what the quota pacer knows about one model.
type ModelStats struct {
	Calls       int64   `json:"calls"`
	RateLimited int64   `json:"rate_limited"`
	RPMLimit    int     `json:"rpm_limit"`
	Rate        float64 `json:"rate_per_min"` // achieved over the last minute
	Concurrency int     `json:"concurrency"`
	InFlight    int     `json:"in_flight"`

	// The quota window's use against each limit, for utilization figures
	// (the web view, metrics): calls and input tokens over the last quota
	// window (a minute, or the compressed window), calls today. A limit of
	// 0 is none.
	SentPerWindow   int64 `json:"sent_per_window"`
	TokensPerWindow int64 `json:"tokens_per_window"`
	TPMLimit        int   `json:"tpm_limit"`
	DayUsed         int   `json:"day_used"`
	RPDLimit        int   `json:"rpd_limit"`
	// Window is the quota window the limits are per (0: a minute).
	Window time.Duration `json:"window_ns,omitempty"`
}

// counters is the live, lock-light form of Stats.
type counters struct {
	started time.Time
	total   atomic.Int64

	read, done, succeeded, failed, skipped, resumed, inFlight atomic.Int64
	malformed, repaired, retryable                            atomic.Int64
	budgetStopped                                             atomic.Int64
	attempts, retries, rateLimited, cacheHits, recovered      atomic.Int64
	batchAnswered                                             atomic.Int64

	promptTok, outputTok, cachedTok, thinkTok atomic.Int64
	costNano, topNano, savedNano              atomic.Int64

	latency histogram

	mu          sync.Mutex
	byClass     map[string]int64
	escalations map[string]int64
	answeredBy  map[string]int64
}

func newCounters(now time.Time) *counters {
	c := &counters{
		started:     now,
		byClass:     map[string]int64{},
		escalations: map[string]int64{},
		answeredBy:  map[string]int64{},
	}
	c.total.Store(-1)
	return c
}

// addTotal adds counted work; the first count replaces "unknown" (-1).
func (c *counters) addTotal(n int64) {
	for {
		cur := c.total.Load()
		next := cur + n
		if cur < 0 {
			next = n
		}
		if c.total.CompareAndSwap(cur, next) {
			return
		}
	}
}

func (c *counters) addUsage(u Usage, cost Money) {
	c.promptTok.Add(int64(u.PromptTokens))
	c.outputTok.Add(int64(u.OutputTokens))
	c.cachedTok.Add(int64(u.CachedTokens))
	c.thinkTok.Add(int64(u.ThinkingTokens))
	c.costNano.Add(int64(cost))
}

func (c *counters) bump(m map[string]int64, key string) {
	c.mu.Lock()
	m[key]++
	c.mu.Unlock()
}

func (c *counters) snapshot(now time.Time) Stats {
	s := Stats{
		Started:       c.started,
		Elapsed:       now.Sub(c.started),
		Total:         int(c.total.Load()),
		Done:          c.done.Load(),
		Read:          c.read.Load(),
		Succeeded:     c.succeeded.Load(),
		Failed:        c.failed.Load(),
		Skipped:       c.skipped.Load(),
		Resumed:       c.resumed.Load(),
		Malformed:     c.malformed.Load(),
		Retryable:     c.retryable.Load(),
		BudgetStopped: c.budgetStopped.Load(),
		Repaired:      c.repaired.Load(),
		InFlight:      c.inFlight.Load(),
		Attempts:      c.attempts.Load(),
		Retries:       c.retries.Load(),
		RateLimited:   c.rateLimited.Load(),
		CacheHits:     c.cacheHits.Load(),
		Recovered:     c.recovered.Load(),
		BatchAnswered: c.batchAnswered.Load(),
		Usage: Usage{
			PromptTokens:   int(c.promptTok.Load()),
			OutputTokens:   int(c.outputTok.Load()),
			CachedTokens:   int(c.cachedTok.Load()),
			ThinkingTokens: int(c.thinkTok.Load()),
		},
		Cost:         float64(c.costNano.Load()) / 1e9,
		TopRungCost:  float64(c.topNano.Load()) / 1e9,
		CachedSaving: float64(c.savedNano.Load()) / 1e9,
		LatencyP50:   c.latency.quantile(0.50),
		LatencyP90:   c.latency.quantile(0.90),
		LatencyP99:   c.latency.quantile(0.99),
	}
	c.mu.Lock()
	s.ByClass = maps.Clone(c.byClass)
	s.Escalations = maps.Clone(c.escalations)
	s.AnsweredBy = maps.Clone(c.answeredBy)
	c.mu.Unlock()
	return s
}

// histogram counts durations in log-spaced buckets (about 5 % wide) from
// 10 µs to about 20 minutes, lock-free, so percentiles cost nothing per call.
type histogram struct {
	buckets [histBuckets]atomic.Int64
}

const (
	histBuckets = 400
	histMin     = 10 * time.Microsecond
	histGrowth  = 1.05
)

var logGrowth = math.Log(histGrowth)

func (h *histogram) observe(d time.Duration) {
	i := 0
	if d > histMin {
		i = int(math.Log(float64(d)/float64(histMin))/logGrowth) + 1
	}
	if i >= histBuckets {
		i = histBuckets - 1
	}
	h.buckets[i].Add(1)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	var counts [histBuckets]int64
	var total int64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i, n := range counts {
		seen += n
		if seen >= rank {
			return histUpper(i)
		}
	}
	return histUpper(histBuckets - 1)
}

func histUpper(i int) time.Duration {
	if i == 0 {
		return histMin
	}
	return time.Duration(float64(histMin) * math.Pow(histGrowth, float64(i)))
}
