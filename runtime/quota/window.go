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
}

func (h *history) reset(window time.Duration) {
	*h = history{width: max(window/slots, 1)}
}

func (h *history) slot(now time.Duration) int {
	n := int64(now / h.width)
	i := int(n % slots)
	if h.idx[i] != n {
		h.idx[i], h.sent[i], h.toks[i] = n, 0, 0
	}
	return i
}

func (h *history) addSent(now time.Duration) { h.sent[h.slot(now)]++ }

func (h *history) addTokens(now time.Duration, n int) { h.toks[h.slot(now)] += int64(n) }

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
