package runtime

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoffDelay is capped exponential backoff with "equal jitter": the n-th
// retry (1-based) waits between half and all of min·2^(n-1), capped at max.
// A server-given delay wins when it is longer.
func backoffDelay(n int, min, max, serverDelay time.Duration, rng *rand.Rand) time.Duration {
	if min <= 0 {
		min = time.Second
	}
	if max < min {
		max = min
	}
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	d = half + time.Duration(rng.Int64N(int64(half)+1))
	if serverDelay > d {
		d = serverDelay
	}
	return d
}

// Clock is the time source of a run; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After behaves like time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-c.After(d):
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
