package sim

import (
	"math"
	"time"
)

// LatencyStep is one step of Config.LatencySchedule: from At after the
// server started, the median latency is Median.
type LatencyStep struct {
	At, Median time.Duration
}

func (s LatencyStep) String() string { return s.At.String() + "=" + s.Median.String() }

// medianAt is the median latency at since after the server started: the
// schedule's step in force then, else Config.Latency.
func (c *Config) medianAt(since time.Duration) time.Duration {
	m := c.Latency
	for _, st := range c.LatencySchedule {
		if st.At > since {
			break
		}
		m = st.Median
	}
	return m
}

// latency draws a response time for a request since after the server
// started: lognormal with the median in force then (Latency, or the
// latency schedule's step) and sigma, plus with probability Tail.P a
// second lognormal around Tail.Median. The draw comes from the request's
// own stream, so it is reproducible.
func latency(c *Config, r *stream, since time.Duration) time.Duration {
	var d float64
	if m := c.medianAt(since); m > 0 {
		d = float64(m) * math.Exp(c.LatencySigma*r.norm())
	}
	if c.LatencyTail.P > 0 && r.float() < c.LatencyTail.P {
		d += float64(c.LatencyTail.Median) * math.Exp(c.LatencySigma*r.norm())
	}
	return time.Duration(d)
}
