package sim

import (
	"flag"
	"io"
	"testing"
	"time"

	"google.golang.org/genai"
)

// TestLatencySchedule: --latency-schedule '0s=50ms,20s=1s,40s=50ms' sets
// the median latency by time since the server started; before its first
// step (and without one) the median is --latency.
func TestLatencySchedule(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs, "")
	if err := fs.Parse([]string{"--latency=7ms", "--latency-sigma=0", "--latency-schedule", "5s=50ms, 20s=1s,40s=50ms"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	if got := fs.Lookup("latency-schedule").Value.String(); got != "5s=50ms,20s=1s,40s=50ms" {
		t.Errorf("flag reads back as %q", got)
	}
	for _, tc := range []struct{ since, want time.Duration }{
		{0, 7 * time.Millisecond},
		{4999 * time.Millisecond, 7 * time.Millisecond},
		{5 * time.Second, 50 * time.Millisecond},
		{19 * time.Second, 50 * time.Millisecond},
		{20 * time.Second, time.Second},
		{39 * time.Second, time.Second},
		{40 * time.Second, 50 * time.Millisecond},
		{time.Hour, 50 * time.Millisecond},
	} {
		// Sigma 0: the draw is the median itself.
		if got := latency(&cfg, newHasher(1).u64(1).rng(), tc.since); got != tc.want {
			t.Errorf("at %s: latency %s, want %s", tc.since, got, tc.want)
		}
	}
	for _, bad := range []string{"20s", "x=1s", "1s=y", "-1s=1s", "0s=-1s", "10s=1s,5s=2s", "5s=1s,5s=2s"} {
		if err := fs.Set("latency-schedule", bad); err == nil {
			t.Errorf("--latency-schedule %q accepted", bad)
		}
	}
	cfg.LatencySchedule = []LatencyStep{{At: 2 * time.Second}, {At: time.Second}}
	if err := cfg.validate(); err == nil {
		t.Error("a schedule out of order passed validate")
	}
}

// TestLatencyScheduleServed: the server applies the step in force when a
// request comes.
func TestLatencyScheduleServed(t *testing.T) {
	s := startSim(t, func(c *Config) {
		c.LatencySigma = 0
		c.LatencySchedule = []LatencyStep{{At: 0, Median: 0}, {At: 200 * time.Millisecond, Median: 400 * time.Millisecond}}
	})
	c := newClient(t, s)
	ctx := testCtx(t)
	time.Sleep(250 * time.Millisecond)
	start := time.Now()
	if _, err := c.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("hi"), withItem(nil, "a")); err != nil {
		t.Fatal(err)
	}
	// Only a lower bound: the machine may be slow, never fast.
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("a request after the 200ms step took %s, want ≥ 400ms", d)
	}
}
