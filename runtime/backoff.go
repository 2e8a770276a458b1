package runtime

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
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

// sleep waits d on the run's clock or until ctx ends.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	return clock.Sleep(ctx, c, d)
}
