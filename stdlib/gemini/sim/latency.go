package sim

import (
	"math"
	"time"
)

// latency draws a response time: lognormal with the configured median and
// sigma, plus with probability Tail.P a second lognormal around
// Tail.Median. The draw comes from the request's own stream, so it is
// reproducible.
func latency(c *Config, r *stream) time.Duration {
	var d float64
	if c.Latency > 0 {
		d = float64(c.Latency) * math.Exp(c.LatencySigma*r.norm())
	}
	if c.LatencyTail.P > 0 && r.float() < c.LatencyTail.P {
		d += float64(c.LatencyTail.Median) * math.Exp(c.LatencySigma*r.norm())
	}
	return time.Duration(d)
}
