package sim

import (
	"sync"
	"time"
)

// Stats are the simulator's ground-truth counters, what benchmarks report
// from. A Stats value is a copy: later requests do not change it.
type Stats struct {
	// Requests counts every HTTP request, Generate only generateContent and
	// streamGenerateContent calls.
	Requests int64 `json:"requests"`
	Generate int64 `json:"generate"`
	// Status counts replies by HTTP status ("200", "429", …; "reset" for a
	// connection closed without a reply).
	Status map[string]int64 `json:"status"`
	// Window is the simulated minute; Accepted[model][i] counts the
	// requests admitted by the quota in fixed window i since start
	// (t in [i·Window, (i+1)·Window)), and the input tokens they counted.
	Window   time.Duration            `json:"window_ns"`
	Accepted map[string][]WindowCount `json:"accepted"`
	// Rejected counts 429s per model and axis (rpm, tpm, rpd, bare).
	Rejected map[string]map[string]int64 `json:"rejected"`
	// Successes counts 200 replies per item (x-llmpipe-item); empty unless
	// Config.ItemSuccesses.
	Successes map[string]int64 `json:"successes"`
	// Faults and Invalid count injected faults and wrong answers by kind.
	Faults  map[string]int64 `json:"faults"`
	Invalid map[string]int64 `json:"invalid"`
	Tokens  TokenCounts      `json:"tokens"`
	Caches  CacheCounts      `json:"caches"`
	Batch   BatchCounts      `json:"batch"`
	Files   FileCounts       `json:"files"`
}

// BatchCounts track batch jobs and the requests inside them. Requests
// counts inner requests run (they are not in Generate, Accepted or
// Status, which are about online calls); Rejected counts creates refused
// for the enqueued-token limit.
type BatchCounts struct {
	Created   int64 `json:"created"`
	Rejected  int64 `json:"rejected"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Expired   int64 `json:"expired"`
	Cancelled int64 `json:"cancelled"`
	Deleted   int64 `json:"deleted"`
	Requests  int64 `json:"requests"`
}

// FileCounts track the Files API: uploads finished, results files
// written by batch jobs, deletions, and files stored now.
type FileCounts struct {
	Uploaded  int64 `json:"uploaded"`
	Generated int64 `json:"generated"`
	Deleted   int64 `json:"deleted"`
	Live      int64 `json:"live"`
}

// WindowCount is one window's admitted traffic for one model.
type WindowCount struct {
	Requests int64 `json:"requests"`
	Tokens   int64 `json:"tokens"`
}

// TokenCounts are totals over successful replies: Prompt includes Cached;
// Thinking is the thoughtsTokenCount, billed as output.
type TokenCounts struct {
	Prompt   int64 `json:"prompt"`
	Output   int64 `json:"output"`
	Cached   int64 `json:"cached"`
	Thinking int64 `json:"thinking"`
}

// CacheCounts track cachedContents; Expired caches count as deleted too.
type CacheCounts struct {
	Created int64 `json:"created"`
	Deleted int64 `json:"deleted"`
	Expired int64 `json:"expired"`
	Live    int64 `json:"live"`
}

// counters is the live state behind Stats. One mutex: every section is a
// few map updates, far below the cost of the HTTP exchange around it.
type counters struct {
	mu sync.Mutex
	s  Stats
	// calls numbers generate calls per (item, model), keyed by hash. Two
	// generations bound the memory: when calls fills up it becomes old and
	// a new one starts, so a pair keeps its count while its item is being
	// worked on (calls for one item come close together) and a million-item
	// run does not hold a million counters.
	calls, old map[uint64]int32
	// itemSuccesses keeps Stats.Successes per item (Config.ItemSuccesses).
	itemSuccesses bool
}

// callGeneration is how many (item, model) pairs one generation holds.
const callGeneration = 1 << 17

func newCounters(window time.Duration, itemSuccesses bool) *counters {
	return &counters{
		itemSuccesses: itemSuccesses,
		s: Stats{
			Window:    window,
			Status:    map[string]int64{},
			Accepted:  map[string][]WindowCount{},
			Rejected:  map[string]map[string]int64{},
			Successes: map[string]int64{},
			Faults:    map[string]int64{},
			Invalid:   map[string]int64{},
		},
		calls: map[uint64]int32{},
	}
}

// nextCall returns the 1-based number of this generate call for the pair.
// Online calls and the inner requests of batch jobs share the count, so a
// script's call numbers and the fault draws follow an item from a job to
// its retries online; online reports whether Stats.Generate counts it.
func (c *counters) nextCall(item, model string, online bool) int {
	k := newHasher(0).str(item).str(model).sum()
	c.mu.Lock()
	n := c.calls[k]
	if n == 0 {
		n = c.old[k]
	}
	n++
	c.calls[k] = n
	if len(c.calls) >= callGeneration {
		c.old, c.calls = c.calls, make(map[uint64]int32, len(c.calls))
	}
	if online {
		c.s.Generate++
	} else {
		c.s.Batch.Requests++
	}
	c.mu.Unlock()
	return int(n)
}

func (c *counters) accepted(model string, win int64, tokens int) {
	c.mu.Lock()
	ws := c.s.Accepted[model]
	for int64(len(ws)) <= win {
		ws = append(ws, WindowCount{})
	}
	ws[win].Requests++
	ws[win].Tokens += int64(tokens)
	c.s.Accepted[model] = ws
	c.mu.Unlock()
}

func (c *counters) rejected(model string, axes []string) {
	c.mu.Lock()
	m := c.s.Rejected[model]
	if m == nil {
		m = map[string]int64{}
		c.s.Rejected[model] = m
	}
	for _, a := range axes {
		m[a]++
	}
	c.mu.Unlock()
}

func (c *counters) success(item string, u usage) {
	c.mu.Lock()
	if c.itemSuccesses {
		c.s.Successes[item]++
	}
	c.s.Tokens.Prompt += int64(u.prompt)
	c.s.Tokens.Output += int64(u.output)
	c.s.Tokens.Cached += int64(u.cached)
	c.s.Tokens.Thinking += int64(u.thoughts)
	c.mu.Unlock()
}

func (c *counters) count(m func(*Stats) map[string]int64, key string) {
	c.mu.Lock()
	m(&c.s)[key]++
	c.mu.Unlock()
}

func (c *counters) request(status string) {
	c.mu.Lock()
	c.s.Requests++
	c.s.Status[status]++
	c.mu.Unlock()
}

func (c *counters) batch(f func(*BatchCounts)) {
	c.mu.Lock()
	f(&c.s.Batch)
	c.mu.Unlock()
}

func (c *counters) files(f func(*FileCounts)) {
	c.mu.Lock()
	f(&c.s.Files)
	c.mu.Unlock()
}

func (c *counters) caches(f func(*CacheCounts)) {
	c.mu.Lock()
	f(&c.s.Caches)
	c.mu.Unlock()
}

// snapshot deep-copies the counters.
func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Status = cloneMap(c.s.Status)
	s.Successes = cloneMap(c.s.Successes)
	s.Faults = cloneMap(c.s.Faults)
	s.Invalid = cloneMap(c.s.Invalid)
	s.Accepted = make(map[string][]WindowCount, len(c.s.Accepted))
	for k, v := range c.s.Accepted {
		s.Accepted[k] = append([]WindowCount(nil), v...)
	}
	s.Rejected = make(map[string]map[string]int64, len(c.s.Rejected))
	for k, v := range c.s.Rejected {
		s.Rejected[k] = cloneMap(v)
	}
	return s
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
