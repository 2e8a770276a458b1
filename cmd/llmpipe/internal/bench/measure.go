package bench

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

// windowRate summarises one model's admitted traffic per fixed window.
type windowRate struct {
	Windows int     // interior windows measured
	Mean    float64 // mean admitted per interior window
	Max     float64 // most admitted in any window, first and last included
}

// interior measures the windows strictly between the first and the last
// window that admitted anything: those are full windows of steady state,
// while the first holds the start-up and the last the tail.
func interior(ws []sim.WindowCount, tokens bool) windowRate {
	val := func(w sim.WindowCount) float64 {
		if tokens {
			return float64(w.Tokens)
		}
		return float64(w.Requests)
	}
	first, last := -1, -1
	var r windowRate
	for i, w := range ws {
		if w.Requests > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
		r.Max = max(r.Max, val(w))
	}
	if first < 0 || last-first < 2 {
		r.Mean = math.NaN()
		return r
	}
	sum := 0.0
	for _, w := range ws[first+1 : last] {
		sum += val(w)
	}
	r.Windows = last - first - 1
	r.Mean = sum / float64(r.Windows)
	return r
}

// per1000 is n per thousand of total, NaN when total is 0.
func per1000(n, total int64) float64 {
	if total == 0 {
		return math.NaN()
	}
	return 1000 * float64(n) / float64(total)
}

// quota429s counts the 429s the quota gave model (all axes, not the bare
// 429s injected as faults).
func quota429s(s *sim.Stats, model string) int64 {
	var n int64
	for axis, c := range s.Rejected[model] {
		if axis != "bare" {
			n += c
		}
	}
	return n
}

// generateCalls counts the generate requests that reached model, from the
// admitted windows plus the quota's refusals.
func generateCalls(s *sim.Stats, model string) int64 {
	var n int64
	for _, w := range s.Accepted[model] {
		n += w.Requests
	}
	return n + quota429s(s, model)
}

// duplicates counts successful calls beyond the first per item and model:
// with no checks in a bench pipeline every 200 is final, so a second one
// is a call the client should not have made. A truncated 200 (an injected
// fault) is not a success.
func duplicates(log []sim.LogEntry) int64 {
	ok := map[string]int64{}
	for _, e := range log {
		if e.Status == 200 && !strings.HasPrefix(e.Kind, "fault:") {
			ok[e.Item]++
		}
	}
	var d int64
	for _, n := range ok {
		if n > 1 {
			d += n - 1
		}
	}
	return d
}

// callsAfterFirst429 counts calls to model the simulator admitted or
// refused after the first 429 naming axis ("rpd"); -1 when none came.
func callsAfterFirst429(log []sim.LogEntry, model, axis string) int64 {
	var first time.Time
	for _, e := range log {
		if e.Model == model && e.Status == 429 && strings.Contains(e.Kind, axis) {
			if first.IsZero() || e.Time.Before(first) {
				first = e.Time
			}
		}
	}
	if first.IsZero() {
		return -1
	}
	var n int64
	for _, e := range log {
		if e.Model == model && e.Time.After(first) {
			n++
		}
	}
	return n
}

// addedLatency pairs the client's timing of each call with the
// simulator's handler time for the same (item, model, call number) and
// returns the quantiles of the difference in milliseconds: what the
// client, its HTTP stack and loopback added to the server's own latency.
func addedLatency(log []sim.LogEntry, calls map[string][]time.Duration, qs ...float64) []float64 {
	var diffs []float64
	for _, e := range log {
		if e.Status != 200 || e.Call <= 0 {
			continue
		}
		ds := calls[callKey(e.Item, e.Model)]
		if e.Call > len(ds) {
			continue
		}
		client := float64(ds[e.Call-1]) / float64(time.Millisecond)
		diffs = append(diffs, client-e.LatencyMS)
	}
	out := make([]float64, len(qs))
	if len(diffs) == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	sort.Float64s(diffs)
	for i, q := range qs {
		k := int(math.Ceil(q*float64(len(diffs)))) - 1
		out[i] = diffs[min(max(k, 0), len(diffs)-1)]
	}
	return out
}

func callKey(item, model string) string { return item + "\x00" + model }

// itoa is strconv.Itoa for the pipeline templates.
func itoa(n int) string { return strconv.Itoa(n) }
