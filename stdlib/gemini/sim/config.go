package sim

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// Config sets up a simulator. Start it from DefaultConfig and change what
// the scenario needs; the zero value is not ready to use. A Config is read
// by Start and not kept, so it may be reused.
type Config struct {
	// Addr is where to listen; it must be a loopback address.
	Addr string
	// Seed keys every random choice.
	Seed int64

	// Latency is the median of the lognormal response time; 0 disables it.
	Latency      time.Duration
	LatencySigma float64
	// LatencyTail adds, with probability P, a second lognormal around
	// Median (same sigma) to model slow outliers.
	LatencyTail Tail
	// LatencySchedule, when set, changes the median over the server's
	// life: from each step's At (time since Start) on, the median is its
	// Median, until the next step; before the first step it is Latency.
	// Steps are in increasing order of At.
	LatencySchedule []LatencyStep

	// RPM, TPM (input tokens) and RPD per model; the key "*" applies to
	// every model without its own entry. Absent or 0 means unlimited.
	RPM, TPM, RPD map[string]int
	// LimitMode is "window", "sliding" or "bucket".
	LimitMode string
	// Window is the simulated minute.
	Window time.Duration
	// Day is the RPD period; 0 means 1440 windows.
	Day time.Duration
	// Burst is the bucket mode's burst as a fraction of each limit
	// (default 1/60: one simulated second's worth); at least one request.
	Burst float64
	// RejectCounts makes rejected (429) requests consume quota too.
	RejectCounts bool
	// CachedCountTPM makes cached-content tokens count toward TPM.
	CachedCountTPM bool

	// Invalid is the rate of wrong answers per model ("*" for any).
	Invalid map[string]float64
	// Fail is the probability of each fault kind (see FaultKinds).
	Fail map[string]float64
	// HangMax bounds a "hang" fault (default 10 minutes); Close ends it
	// early.
	HangMax time.Duration
	// Poison lists items that always get 400 INVALID_ARGUMENT.
	Poison []string

	// MinCacheTokens is the smallest cachedContents.create accepted; 0
	// takes each model's value from catalog.MinCacheTokens, the rule plan
	// and run use.
	MinCacheTokens int

	// ItemSuccesses counts successful replies per item in Stats.Successes
	// (ground truth for duplicate calls). Its memory grows with the number
	// of items, so `llmpipe run --sim` turns it off.
	ItemSuccesses bool

	// BatchLatency is how long a batch job takes from create to its end:
	// PENDING for the first half, RUNNING for the second.
	BatchLatency time.Duration
	// BatchFail and BatchExpire are the probabilities that a job ends
	// FAILED or EXPIRED instead of SUCCEEDED.
	BatchFail, BatchExpire float64
	// BatchEnqueuedTokens caps, per model ("*" for any), the input tokens
	// of its PENDING and RUNNING jobs; a create over it gets 429. Absent
	// or 0 means unlimited.
	BatchEnqueuedTokens map[string]int
	// Clock is the time source of batch jobs: their states, their ends and
	// the timer that ends them on time. Nil means clock.Real; a test may
	// pass a fake of its own to step jobs through their states.
	Clock clock.Clock

	// ScriptFile is a JSONL script loaded at Start; its lines come after
	// those in Script.
	ScriptFile string
	Script     []ScriptLine

	// LogFile receives one JSON line per request; "" for none.
	LogFile string
	// LogBodies adds request bodies to the log.
	LogBodies bool
	// KeepLog keeps log entries in memory for Server.Log (tests only:
	// memory grows with every request).
	KeepLog bool
}

// Tail is an optional slow-response mode of the latency distribution.
type Tail struct {
	P      float64
	Median time.Duration
}

// Limit modes.
const (
	ModeWindow  = "window"
	ModeSliding = "sliding"
	ModeBucket  = "bucket"
)

// Fault kinds accepted in Config.Fail, in the order they are drawn.
const (
	Fault500      = "500"
	Fault503      = "503"
	Fault504      = "504"
	FaultHang     = "hang"
	FaultReset    = "reset"
	FaultTruncate = "truncate"
	FaultBare429  = "bare429"
)

// FaultKinds lists the fault kinds in draw order.
var FaultKinds = []string{Fault500, Fault503, Fault504, FaultHang, FaultReset, FaultTruncate, FaultBare429}

// DefaultConfig returns the defaults the flags document.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:0",
		LatencySigma:   0.5,
		LimitMode:      ModeWindow,
		Window:         60 * time.Second,
		Burst:          1.0 / 60,
		CachedCountTPM: true,
		HangMax:        10 * time.Minute,
		ItemSuccesses:  true,
		BatchLatency:   2 * time.Second,
	}
}

// validate reports the first setting Start cannot run with.
func (c *Config) validate() error {
	if err := checkLoopback(c.Addr); err != nil {
		return err
	}
	switch c.LimitMode {
	case ModeWindow, ModeSliding, ModeBucket:
	default:
		return fmt.Errorf("limit mode %q: want window, sliding or bucket", c.LimitMode)
	}
	if c.Window <= 0 {
		return errors.New("window must be positive")
	}
	if c.Day < 0 || c.Latency < 0 || c.LatencySigma < 0 || c.Burst < 0 {
		return errors.New("day, latency, latency sigma and burst must not be negative")
	}
	for i, st := range c.LatencySchedule {
		if st.At < 0 || st.Median < 0 {
			return fmt.Errorf("latency schedule %s: times and latencies must not be negative", st)
		}
		if i > 0 && st.At <= c.LatencySchedule[i-1].At {
			return fmt.Errorf("latency schedule: %s comes after %s; list the steps in increasing order of time", st, c.LatencySchedule[i-1])
		}
	}
	if p := c.LatencyTail.P; p < 0 || p > 1 {
		return fmt.Errorf("latency tail probability %v out of [0,1]", p)
	}
	total := 0.0
	for k, p := range c.Fail {
		if !isFaultKind(k) {
			return fmt.Errorf("unknown fault kind %q (want one of %s)", k, strings.Join(FaultKinds, ", "))
		}
		if p < 0 || p > 1 {
			return fmt.Errorf("fault %s probability %v out of [0,1]", k, p)
		}
		total += p
	}
	if total > 1+1e-9 {
		return fmt.Errorf("fault probabilities add up to %v, more than 1", total)
	}
	if c.BatchLatency < 0 {
		return errors.New("batch latency must not be negative")
	}
	if c.BatchFail < 0 || c.BatchExpire < 0 || c.BatchFail+c.BatchExpire > 1+1e-9 {
		return fmt.Errorf("batch fail %v and expire %v: each in [0,1], their sum at most 1", c.BatchFail, c.BatchExpire)
	}
	for m, p := range c.Invalid {
		if p < 0 || p > 1 {
			return fmt.Errorf("invalid rate for %s %v out of [0,1]", m, p)
		}
	}
	for _, l := range c.Script {
		if err := l.check(); err != nil {
			return err
		}
	}
	return nil
}

func isFaultKind(k string) bool {
	for _, f := range FaultKinds {
		if f == k {
			return true
		}
	}
	return false
}

// checkLoopback refuses anything but a loopback host: the simulator has no
// authentication and must never be reachable from outside the machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not loopback: the simulator only binds to 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

// perModel looks a model up in a "*"-defaulted table.
func perModel[V any](m map[string]V, model string) V {
	if v, ok := m[model]; ok {
		return v
	}
	return m["*"]
}
