package quota

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	const w = time.Minute
	cases := []struct {
		name  string
		limit int
		run   func(b *bucket) time.Duration
		want  time.Duration
	}{
		{"unlimited never waits", 0, func(b *bucket) time.Duration { return b.wait(0, 1e9) }, 0},
		{"first call goes at once", 60, func(b *bucket) time.Duration { return b.wait(0, 1) }, 0},
		{"second call waits one paced interval", 60, func(b *bucket) time.Duration {
			b.take(1, false)
			return b.wait(0, 1)
		}, 1010101011}, // 60 s / 59.4, rounded up
		{"idle credit is dropped", 6000, func(b *bucket) time.Duration {
			// An hour idle fills the bucket to its capacity of 60,
			// but an untimed call keeps none of it.
			b.advance(time.Hour)
			b.take(1, false)
			return b.wait(time.Hour, 1)
		}, 10101011},
		{"lateness is credited to a timed call", 6000, func(b *bucket) time.Duration {
			b.take(1, false)
			// The next call was due at 10.1 ms but woke at 15 ms.
			b.advance(15 * time.Millisecond)
			b.take(1, true)
			return b.wait(15*time.Millisecond, 1)
		}, 5202021},
		{"a pause restarts from empty", 6000, func(b *bucket) time.Duration {
			b.advance(time.Hour)
			b.pause(time.Hour, time.Hour+time.Second)
			return b.wait(time.Hour, 1)
		}, time.Second + 10101011},
		{"a correction is a debt", 6000, func(b *bucket) time.Duration {
			b.take(1, false)
			b.adjust(1)
			return b.wait(0, 1)
		}, 2 * 10101011},
		{"a call above capacity waits to accrue all of it", 6000, func(b *bucket) time.Duration {
			b.take(1, false)
			return b.wait(0, 100)
		}, 1010101011},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bucket
			b.configure(c.limit, 0.99, w, 0)
			if got := c.run(&b); got < c.want-2 || got > c.want+2 {
				t.Errorf("wait %v, want %v", got, c.want)
			}
		})
	}
}
