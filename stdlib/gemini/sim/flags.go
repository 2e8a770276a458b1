package sim

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RegisterFlags binds the simulator's flags to c, each name prefixed with
// prefix ("sim-" in the llmpipe CLI, "" standalone). Call it on a Config
// from DefaultConfig so the flags show the right defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet, prefix string) {
	p := func(name string) string { return prefix + name }
	fs.StringVar(&c.Addr, p("addr"), c.Addr, "listen address; must be loopback")
	fs.Int64Var(&c.Seed, p("seed"), c.Seed, "seed for every random choice (default 0)")
	fs.DurationVar(&c.Latency, p("latency"), c.Latency, "median response latency, lognormal (default 0: answer at once)")
	fs.Float64Var(&c.LatencySigma, p("latency-sigma"), c.LatencySigma, "sigma of the lognormal latency")
	fs.Var((*scheduleFlag)(&c.LatencySchedule), p("latency-schedule"), "AT=DUR,AT=DUR,...: from AT after start the median latency is DUR, e.g. '0s=50ms,20s=1s,40s=50ms' (default none: --"+p("latency")+" throughout)")
	fs.Var((*tailFlag)(&c.LatencyTail), p("latency-tail"), "P=DUR: with probability P add a lognormal latency around DUR (default none)")
	fs.Var(intTable{&c.RPM}, p("rpm"), "MODEL=N requests per window for MODEL, * for every model; repeatable (default unlimited)")
	fs.Var(intTable{&c.TPM}, p("tpm"), "MODEL=N input tokens per window for MODEL, * for every model; repeatable (default unlimited)")
	fs.Var(intTable{&c.RPD}, p("rpd"), "MODEL=N requests per day for MODEL, * for every model; repeatable (default unlimited)")
	fs.StringVar(&c.LimitMode, p("limit-mode"), c.LimitMode, "quota enforcement: window (fixed), sliding or bucket (GCRA)")
	fs.DurationVar(&c.Window, p("window"), c.Window, "length of the simulated minute used by every per-minute limit and to scale cache TTLs")
	fs.DurationVar(&c.Day, p("day"), c.Day, "length of the RPD day (default 0: 1440 windows)")
	fs.Float64Var(&c.Burst, p("burst"), c.Burst, "bucket mode burst as a fraction of each limit")
	fs.BoolVar(&c.RejectCounts, p("reject-counts"), c.RejectCounts, "rejected (429) requests consume quota too (default false)")
	fs.BoolVar(&c.CachedCountTPM, p("cached-count-tpm"), c.CachedCountTPM, "cached-content tokens count toward TPM")
	fs.Var(floatTable{&c.Invalid}, p("invalid"), "MODEL=P rate of wrong answers for MODEL, * for every model; repeatable (default 0)")
	fs.Var(floatTable{&c.Fail}, p("fail"), "KIND=P probability of a fault, KIND one of "+strings.Join(FaultKinds, ", ")+"; repeatable (default none)")
	fs.Var((*listFlag)(&c.Poison), p("poison"), "ID,ID,... items that always get 400 INVALID_ARGUMENT (default none)")
	fs.IntVar(&c.MinCacheTokens, p("min-cache-tokens"), c.MinCacheTokens, "smallest cached content accepted, in tokens (default 0: each model's minimum from the catalog)")
	fs.BoolVar(&c.ItemSuccesses, p("item-successes"), c.ItemSuccesses, "count successes per item in /stats (memory grows with the items)")
	fs.DurationVar(&c.BatchLatency, p("batch-latency"), c.BatchLatency, "time a batch job takes from create to its end (PENDING the first half, RUNNING the second)")
	fs.Float64Var(&c.BatchFail, p("batch-fail"), c.BatchFail, "probability that a batch job ends FAILED (default 0)")
	fs.Float64Var(&c.BatchExpire, p("batch-expire"), c.BatchExpire, "probability that a batch job ends EXPIRED, without results (default 0)")
	fs.Var(intTable{&c.BatchEnqueuedTokens}, p("batch-enqueued-tokens"), "MODEL=N input tokens of a model's live batch jobs above which a create gets 429, * for every model; repeatable (default unlimited)")
	fs.StringVar(&c.ScriptFile, p("script"), c.ScriptFile, "JSONL file of scripted replies keyed by item, model and call (default none)")
	fs.StringVar(&c.LogFile, p("log"), c.LogFile, "write one JSON line per request to this file (default none)")
	fs.BoolVar(&c.LogBodies, p("log-bodies"), c.LogBodies, "include request bodies in the log (default false)")
}

// intTable parses repeated MODEL=N flags.
type intTable struct{ m *map[string]int }

func (t intTable) String() string {
	if t.m == nil {
		return ""
	}
	return joinTable(*t.m, func(v int) string { return strconv.Itoa(v) })
}

func (t intTable) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want MODEL=N", s)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%q: want a count >= 0", s)
	}
	if *t.m == nil {
		*t.m = map[string]int{}
	}
	(*t.m)[k] = n
	return nil
}

// floatTable parses repeated KEY=P flags with P in [0,1].
type floatTable struct{ m *map[string]float64 }

func (t floatTable) String() string {
	if t.m == nil {
		return ""
	}
	return joinTable(*t.m, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
}

func (t floatTable) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want KEY=P", s)
	}
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || p < 0 || p > 1 {
		return fmt.Errorf("%q: want a probability in [0,1]", s)
	}
	if *t.m == nil {
		*t.m = map[string]float64{}
	}
	(*t.m)[k] = p
	return nil
}

func joinTable[V any](m map[string]V, f func(V) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + f(m[k])
	}
	return strings.Join(parts, ",")
}

// scheduleFlag parses AT=DUR,AT=DUR,... into a latency schedule.
type scheduleFlag []LatencyStep

func (f *scheduleFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, st := range *f {
		parts[i] = st.String()
	}
	return strings.Join(parts, ",")
}

func (f *scheduleFlag) Set(s string) error {
	var steps []LatencyStep
	for part := range strings.SplitSeq(s, ",") {
		at, d, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%q: want AT=DURATION, e.g. 20s=1s", part)
		}
		var st LatencyStep
		var err error
		if st.At, err = time.ParseDuration(at); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
		if st.Median, err = time.ParseDuration(d); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
		if st.At < 0 || st.Median < 0 {
			return fmt.Errorf("%q: times and latencies must not be negative", part)
		}
		if n := len(steps); n > 0 && st.At <= steps[n-1].At {
			return fmt.Errorf("%q comes after %s: list the steps in increasing order of time", part, steps[n-1])
		}
		steps = append(steps, st)
	}
	*f = steps
	return nil
}

// tailFlag parses P=DUR.
type tailFlag Tail

func (t *tailFlag) String() string {
	if t == nil || t.P == 0 {
		return ""
	}
	return strconv.FormatFloat(t.P, 'g', -1, 64) + "=" + t.Median.String()
}

func (t *tailFlag) Set(s string) error {
	ps, ds, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q: want P=DURATION", s)
	}
	p, err := strconv.ParseFloat(ps, 64)
	if err != nil || p < 0 || p > 1 {
		return fmt.Errorf("%q: want a probability in [0,1]", s)
	}
	d, err := time.ParseDuration(ds)
	if err != nil || d < 0 {
		return fmt.Errorf("%q: want a duration >= 0", s)
	}
	*t = tailFlag{P: p, Median: d}
	return nil
}

// listFlag parses comma-separated ids; repeating the flag appends.
type listFlag []string

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *listFlag) Set(s string) error {
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}
