package quota

import (
	"errors"
	"fmt"
	"time"

	"github.com/llmpipe/llmpipe/runtime/clock"
)

// Limits are one model's quotas. Zero means unlimited, except Concurrency,
// where zero means auto: sized by Little's law from the request rate the
// quota allows and the latency observed.
type Limits struct {
	RPM         int // requests per window (a minute unless Options.Window says otherwise)
	TPM         int // input tokens per window
	RPD         int // requests per day
	Concurrency int // calls in flight; 0 = auto
}

// Options configure a Limiter. The zero value is usable.
type Options struct {
	// Clock is the source of time; nil means the wall clock.
	Clock clock.Clock
	// Window is the length of the "minute" the RPM and TPM limits count
	// over; 0 means one minute. Benchmarks compress it.
	Window time.Duration
	// DayLength, when positive, replaces the per-day reset at midnight
	// Pacific time with a reset every DayLength (counted from the Unix
	// epoch), for tests.
	DayLength time.Duration
	// Headroom is the fraction of each rate limit to pace at; 0 means 0.99.
	// The rest absorbs timing jitter at the server.
	Headroom float64
	// RetryDelay is how long to pause a model after a per-minute 429 that
	// names no retryDelay; 0 means Window/30.
	RetryDelay time.Duration
	// InitialLatency is the call latency assumed for automatic concurrency
	// until calls have been measured; 0 means one second.
	InitialLatency time.Duration
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.Headroom <= 0 || o.Headroom > 1 {
		o.Headroom = 0.99
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = o.Window / 30
	}
	if o.InitialLatency <= 0 {
		o.InitialLatency = time.Second
	}
	return o
}

// Axis is the quota a 429 names. The values match runtime.QuotaAxis, so a
// caller converts with Axis(v.Axis).
type Axis string

const (
	AxisRPM   Axis = "rpm"
	AxisTPM   Axis = "tpm"
	AxisRPD   Axis = "rpd"
	AxisOther Axis = "" // a quota violation this package cannot place
)

// RateLimit describes one 429.
type RateLimit struct {
	// Axes are the quotas the QuotaFailure violations name; empty for a
	// bare 429 (no details), which is treated as a capacity signal.
	Axes []Axis
	// RetryDelay is RetryInfo.retryDelay; 0 when absent.
	RetryDelay time.Duration
}

// Bare reports whether the 429 named no quota.
func (r RateLimit) Bare() bool { return len(r.Axes) == 0 }

// ErrTooLarge is returned by Acquire for a request whose token estimate
// exceeds the model's whole per-window token limit: it could never be sent.
var ErrTooLarge = errors.New("request larger than the token limit")

// ErrDayExhausted is matched (errors.Is) by the *DayExhaustedError that
// Acquire returns when a model's daily quota is spent.
var ErrDayExhausted = errors.New("daily quota exhausted")

// DayExhaustedError says a model may take no more calls until Until.
type DayExhaustedError struct {
	Model string
	Until time.Time
}

func (e *DayExhaustedError) Error() string {
	return fmt.Sprintf("daily quota of %s exhausted until %s", e.Model, e.Until.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrDayExhausted) hold.
func (e *DayExhaustedError) Is(target error) bool { return target == ErrDayExhausted }
