package runtime

import (
	"slices"
	"sync"

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
// model. It is safe for concurrent use.
type outputCaps struct {
	mu sync.Mutex
	m  map[capKey]*capHist
}

type capKey struct{ step, model string }

// capHist is a ring of the latest replies' output tokens and the cap
// they make (recomputed as replies come, less often once there are many).
type capHist struct {
	used    []int
	next    int
	seen    int
	want    int
	scratch []int
}

// update recomputes want: the 99th percentile plus a third and 64 tokens.
func (h *capHist) update() {
	h.scratch = append(h.scratch[:0], h.used...)
	slices.Sort(h.scratch)
	q := h.scratch[min(len(h.scratch)-1, len(h.scratch)*99/100)]
	h.want = q + q/3 + 64
}

// observe records a reply that ended normally: its answer and thinking
// tokens.
func (c *outputCaps) observe(step, model string, used int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[capKey]*capHist{}
	}
	h := c.m[capKey{step, model}]
	if h == nil {
		h = &capHist{}
		c.m[capKey{step, model}] = h
	}
	if len(h.used) < capWindow {
		h.used = append(h.used, used)
	} else {
		h.used[h.next] = used
		h.next = (h.next + 1) % capWindow
	}
	h.seen++
	if h.seen >= capSamples && (h.seen < 64 || h.seen%16 == 0 || used > h.want) {
		h.update()
	}
}

// cap is the maxOutputTokens for the next call of step on model: the 99th
// percentile of recent replies plus a third and 64 tokens, within the
// model block's bounds; before enough replies, firstCap (or twice the
// largest reply on the step's other models).
func (c *outputCaps) cap(step string, m *interp.Model) int {
	lo, hi := capBounds(m)
	c.mu.Lock()
	defer c.mu.Unlock()
	want := firstCap
	if h := c.m[capKey{step, m.ID}]; h != nil && h.seen >= capSamples {
		want = h.want
	} else {
		for k, h := range c.m {
			if k.step == step && len(h.used) > 0 {
				want = max(want, 2*slices.Max(h.used))
			}
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
