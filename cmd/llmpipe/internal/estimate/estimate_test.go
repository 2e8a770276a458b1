package estimate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestScalesTheSampleToTheSource(t *testing.T) {
	costs := make([]float64, 100)
	for i := range costs {
		costs[i] = 0.001 // every item costs the same: no spread
	}
	e := Of([]Step{{Name: "s", Sampled: 100, Total: 1000, ItemCosts: costs,
		Rungs: []Rung{{Model: "lite", Reached: 100, Answered: 100, Calls: 100, Input: 10_000, Output: 2_000, Cost: 0.1,
			Latency: 100 * time.Second, RPM: 100, RPD: 500}}}})
	if math.Abs(e.Expected-1) > 1e-9 || math.Abs(e.Low-1) > 1e-9 || math.Abs(e.High-1) > 1e-9 {
		t.Errorf("expected %v [%v, %v], want exactly $1", e.Expected, e.Low, e.High)
	}
	r := e.Steps[0].Rungs[0]
	if r.Calls != 1000 || r.PassRate != 1 || r.Input != 100 || r.Latency != time.Second {
		t.Errorf("rung %+v", r)
	}
	// 1,000 calls at 100 rpm: 10 minutes; 500 a day: two days.
	if e.Duration != 10*time.Minute || e.Days != 2 {
		t.Errorf("duration %v, %d days", e.Duration, e.Days)
	}
	if len(e.Wide) != 0 {
		t.Errorf("wide: %v", e.Wide)
	}
}

// The range holds the true total of the source in about 90 % of samples.
func TestRangeCoversTheTotal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const total, n = 1500, 200
	// A ladder's costs: most items cheap, some climb and cost 30×.
	pop := make([]float64, total)
	var sum float64
	for i := range pop {
		pop[i] = 0.00002
		if r.Float64() < 0.1 {
			pop[i] = 0.0006
		}
		sum += pop[i]
	}
	covered := 0
	const trials = 400
	for range trials {
		sample := make([]float64, n)
		for i, j := range r.Perm(total)[:n] {
			sample[i] = pop[j]
		}
		e := Of([]Step{{Name: "s", Sampled: n, Total: total, ItemCosts: sample}})
		if e.Low <= sum && sum <= e.High {
			covered++
		}
	}
	if got := float64(covered) / trials; got < 0.85 {
		t.Errorf("the range held the total in %.0f%% of samples, want about 90%%", 100*got)
	}
}

func TestFewObservationsAreWide(t *testing.T) {
	e := Of([]Step{{Name: "s", Sampled: 3, Total: 100, ItemCosts: []float64{1, 2, 3},
		Rungs: []Rung{{Model: "pro", Reached: 1, Calls: 1, Cost: 1}}}})
	if len(e.Wide) != 2 {
		t.Errorf("wide = %q, want the step and the rung named", e.Wide)
	}
}
