package runtime

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/llmpipe/llmpipe/interp"
)

// The output cap.
//
// A call's budget reservation is its worst case, and the worst case of
// the output is the maxOutputTokens the request carries: the API stops a
// reply there (thinking included, on models that think), so a reply can
// never cost more than its reservation. A fixed cap of 8,192 tokens made
// every reservation many times the call's real cost, and a budget run out
// of reservations long before it ran out of money. So the cap is set per
// request from what this step's replies on this model have taken so far:
// a high quantile of the recent ones with headroom, between the model
// block's min_output_tokens (floor) and max_output_tokens (ceiling).
//
// A reply cut at the cap (finish reason MAX_TOKENS) is asked again on the
// same rung with a larger cap: that is the cap's error, not the model's,
// so it uses no validation attempt. The cap is not part of the response
// cache's key (RequestKey): a stored reply that ended normally is reused
// under any cap.

const (
	// defaultMaxOutput is the ceiling when a model block sets no
	// max_output_tokens.
	defaultMaxOutput = 8192
	// defaultMinOutput is the floor when it sets no min_output_tokens.
	defaultMinOutput = 256
	// firstCap is the cap before a (step, model) has replies enough to
	// learn from: the largest reply seen on the step's other models, doubled,
	// if that is more.
	firstCap = 1024
	// capSamples replies make a quantile; capWindow are kept per (step, model).
	capSamples = 8
	capWindow  = 256
)

// capBounds are a model block's floor and ceiling for the cap.
func capBounds(m *interp.Model) (lo, hi int) {
	lo, hi = m.MinOutputTokens, m.MaxOutputTokens
	if hi <= 0 {
		hi = defaultMaxOutput
	}
	if lo <= 0 {
		lo = min(defaultMinOutput, hi)
	}
	return lo, max(lo, hi)
}

// outputCaps learns how many output tokens replies take, per step and
// model. It is safe for concurrent use. Every call asks cap and every
// reply tells observe, so neither takes a lock on the way: the map of
// histograms is copied on write (a new (step, model) is rare), a reply
// goes into its histogram's ring with atomics, and only recomputing the
// cap (see observe) locks that histogram.
type outputCaps struct {
	mu sync.Mutex // serialises writers of m
	m  atomic.Pointer[map[capKey]*capHist]
}

type capKey struct{ step, model string }

// capHist is a ring of the latest replies' output tokens and the cap
// they make (recomputed as replies come, less often once there are many).
type capHist struct {
	used [capWindow]atomic.Int64 // reply n goes to used[n % capWindow]
	next atomic.Int64            // replies given a slot
	seen atomic.Int64            // replies stored in their slot
	// want is the cap the replies make, 0 until capSamples have come.
	want atomic.Int64

	mu      sync.Mutex // serialises update
	scratch []int64
}

// filled returns how many slots of the ring hold replies.
func (h *capHist) filled() int { return int(min(h.seen.Load(), capWindow)) }

// update recomputes want: the 99th percentile plus a third and 64 tokens.
func (h *capHist) update() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scratch = h.scratch[:0]
	for i := range h.filled() {
		h.scratch = append(h.scratch, h.used[i].Load())
	}
	slices.Sort(h.scratch)
	q := h.scratch[min(len(h.scratch)-1, len(h.scratch)*99/100)]
	h.want.Store(q + q/3 + 64)
}

// hists is the current map; nil before the first reply.
func (c *outputCaps) hists() map[capKey]*capHist {
	if p := c.m.Load(); p != nil {
		return *p
	}
	return nil
}

// hist returns the histogram of (step, model), making it if need be.
func (c *outputCaps) hist(step, model string) *capHist {
	k := capKey{step, model}
	if h := c.hists()[k]; h != nil {
		return h
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.hists()
	if h := old[k]; h != nil {
		return h
	}
	next := make(map[capKey]*capHist, len(old)+1)
	for kk, v := range old {
		next[kk] = v
	}
	h := &capHist{}
	next[k] = h
	c.m.Store(&next)
	return h
}

// observe records a reply that ended normally: its answer and thinking
// tokens. The cap is recomputed from the ring at each of the first 64
// replies (from the capSamples-th), then every 16th, and at once after a
// reply longer than the cap.
func (c *outputCaps) observe(step, model string, used int) {
	h := c.hist(step, model)
	// The slot is this reply's alone until capWindow more replies come.
	h.used[(h.next.Add(1)-1)%capWindow].Store(int64(used))
	seen := h.seen.Add(1)
	if seen >= capSamples && (seen < 64 || seen%16 == 0 || int64(used) > h.want.Load()) {
		h.update()
	}
}

// cap is the maxOutputTokens for the next call of step on model: the 99th
// percentile of recent replies plus a third and 64 tokens, within the
// model block's bounds; before enough replies, firstCap (or twice the
// largest reply on the step's other models).
func (c *outputCaps) cap(step string, m *interp.Model) int {
	lo, hi := capBounds(m)
	hs := c.hists()
	if h := hs[capKey{step, m.ID}]; h != nil {
		if w := h.want.Load(); w > 0 {
			return min(max(int(w), lo), hi)
		}
	}
	want := firstCap
	for k, h := range hs {
		if k.step != step {
			continue
		}
		for i := range h.filled() {
			want = max(want, 2*int(h.used[i].Load()))
		}
	}
	return min(max(want, lo), hi)
}

// grow is the cap after a reply was cut at cap: twice it, up to the
// ceiling; ok is false when the cap is at the ceiling already.
func grow(m *interp.Model, cap int) (next int, ok bool) {
	_, hi := capBounds(m)
	if cap >= hi {
		return cap, false
	}
	return min(2*cap, hi), true
}
