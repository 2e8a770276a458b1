package quota

import "time"

// slots is how finely a window's history is kept.
const slots = 60

// history counts what happened in the last window, in slots of window/60,
// so Stats can report rates without keeping one entry per call.
type history struct {
	width time.Duration // one slot
	idx   [slots]int64  // which slot number each entry holds
	sent  [slots]int64  // calls admitted
	toks  [slots]int64  // prompt tokens counted at completion
	lim   [slots]int64  // per-minute 429s received
	bare  [slots]int64  // 429s without details received
}

func (h *history) reset(window time.Duration) {
	*h = history{width: max(window/slots, 1)}
}

// slot returns the entry for time t, recycling it if it holds an older
// slot, or -1 if t is too old to keep.
func (h *history) slot(t time.Duration) int {
	n := int64(t / h.width)
	i := int(n % slots)
	switch {
	case h.idx[i] < n:
		h.idx[i], h.sent[i], h.toks[i], h.lim[i], h.bare[i] = n, 0, 0, 0, 0
	case h.idx[i] > n:
		return -1
	}
	return i
}

func (h *history) addSent(t time.Duration) {
	if i := h.slot(t); i >= 0 {
		h.sent[i]++
	}
}

// addTokens counts n tokens at t, the time the call was sent: Done reads
// no clock.
func (h *history) addTokens(t time.Duration, n int) {
	if i := h.slot(t); i >= 0 {
		h.toks[i] += int64(n)
	}
}

// sums returns the calls admitted and tokens counted over the last window.
func (h *history) sums(now time.Duration) (sent, toks int64) {
	cur := int64(now / h.width)
	for i := range slots {
		if h.idx[i] > cur-slots && h.idx[i] <= cur {
			sent += h.sent[i]
			toks += h.toks[i]
		}
	}
	return sent, toks
}

// addLimited counts a 429 at t, bare (no details) or naming a per-minute
// quota.
func (h *history) addLimited(t time.Duration, bare bool) {
	if i := h.slot(t); i >= 0 {
		if bare {
			h.bare[i]++
		} else {
			h.lim[i]++
		}
	}
}

// limitedShare is the 429s of one kind (bare or per-minute) over the calls
// admitted in the last window.
func (h *history) limitedShare(now time.Duration, bare bool) float64 {
	cur := int64(now / h.width)
	var sent, lim int64
	for i := range slots {
		if h.idx[i] > cur-slots && h.idx[i] <= cur {
			sent += h.sent[i]
			if bare {
				lim += h.bare[i]
			} else {
				lim += h.lim[i]
			}
		}
	}
	if sent == 0 {
		return 1
	}
	return float64(lim) / float64(sent)
}
