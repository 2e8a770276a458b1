package quota

import (
	"math"
	"time"
)

// bucket paces one axis (requests or tokens) of one model. Its level is
// what may be spent now; it refills at rate per nanosecond up to capacity.
// The level may go negative: a correction that finds a call used more
// tokens than charged becomes a debt later calls wait out.
//
// A zero limit means the axis is unlimited and the bucket always admits.
type bucket struct {
	limit  float64       // configured units per window; 0 = unlimited
	factor float64       // learned fraction of limit the server really allows, (0, 1]
	rate   float64       // units per nanosecond
	cap    float64       // most the level holds
	level  float64       // units that may be spent at last
	last   time.Duration // when level was last brought up to date
	hold   float64       // a queued call's cost when above cap: the level may grow to it

	startFull bool // a fresh bucket starts at capacity rather than at one unit
}

// configure sets the bucket's limit. Learning starts over when the limit
// changes: a new configuration is new information.
func (b *bucket) configure(limit int, headroom float64, window, now time.Duration) {
	b.advance(now)
	l := float64(limit)
	if l != b.limit {
		fresh := b.limit == 0
		b.limit = l
		b.factor = 1
		b.retune(headroom, window)
		if fresh {
			b.level = min(1, b.cap)
			if b.startFull {
				b.level = b.cap
			}
			b.last = now
		}
	}
}

// retune recomputes rate and capacity after limit or factor changed.
func (b *bucket) retune(headroom float64, window time.Duration) {
	if b.limit == 0 {
		b.rate, b.cap, b.level = 0, 0, 0
		return
	}
	eff := b.limit * b.factor
	b.rate = headroom * eff / float64(window)
	// Any window of length W then admits at most cap + rate·W units,
	// which is under eff + 1: with whole requests, at most eff. The
	// capacity beyond one unit makes up for timers waking late while
	// calls queue on the pace.
	b.cap = 1 + 0.9*(1-headroom)*eff
	b.level = min(b.level, b.cap)
}

func (b *bucket) unlimited() bool { return b.limit == 0 }

// advance refills the bucket up to now.
func (b *bucket) advance(now time.Duration) {
	if b.limit == 0 || now <= b.last {
		return
	}
	b.level = min(max(b.cap, b.hold), b.level+b.rate*float64(now-b.last))
	b.last = now
}

// wait returns how long until n units may be spent, 0 if now.
func (b *bucket) wait(now time.Duration, n float64) time.Duration {
	if b.limit == 0 {
		return 0
	}
	b.hold = 0
	if n > b.cap {
		b.hold = n
	}
	b.advance(now)
	if b.level >= n {
		return 0
	}
	need := (n - b.level) / b.rate
	// Round up: waking a nanosecond early would find the level short.
	return max(time.Duration(math.Ceil(need)), time.Nanosecond) + max(0, b.last-now)
}

// take spends n units. If the spender did not wait for the bucket (it found
// it ready on arrival, or was held up by something else), the credit
// beyond n is dropped so an idle spell never turns into a burst.
func (b *bucket) take(n float64, timed bool) {
	if b.limit == 0 {
		return
	}
	if !timed {
		b.level = min(b.level, n)
	}
	b.level -= n
	b.hold = 0
}

// adjust charges a correction: positive spends more, negative refunds.
func (b *bucket) adjust(n float64) {
	if b.limit == 0 {
		return
	}
	b.level = min(b.level-n, max(b.cap, b.hold))
}

// pause keeps the bucket from refilling before until and drops any credit,
// so sending resumes at the paced rate rather than with a burst.
func (b *bucket) pause(now, until time.Duration) {
	if b.limit == 0 {
		return
	}
	b.advance(now)
	b.level = min(b.level, 0)
	b.last = max(b.last, until)
}
