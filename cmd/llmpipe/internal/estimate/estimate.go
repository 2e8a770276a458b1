// Package estimate turns what a sample of items cost (a pilot run, or the
// store's history of earlier runs) into an estimate for a whole source:
// the expected cost, a 90 % range, calls per rung and how long the calls
// take at the models' quotas. It is pure arithmetic over observations, so
// `llmpipe plan` and its tests share it.
//
// # The range
//
// A step's cost over M items is the sum of M per-item costs. The sample
// of n items gives their mean μ and standard deviation σ; the total is
// then M·μ with variance M·σ² (the items to come vary) plus M²·σ²/n (μ is
// itself estimated from n items). The 90 % range is the expected cost ±
// 1.645 standard deviations, summed over steps as independent. With a
// small sample the range is wide, and the estimate says why.
package estimate

import (
	"math"
	"strconv"
	"time"
)

// z90 is the two-sided 90 % quantile of the normal distribution.
const z90 = 1.645

// Step is what was observed of one step.
type Step struct {
	Name string
	// Sampled is how many items of the step's source the sample covered;
	// Total how many the source holds (its count, after any limit).
	Sampled, Total int
	// ItemCosts are the costs in dollars of the items that reached a
	// terminal state at the step in the sample (every attempt, every rung).
	ItemCosts []float64
	// Rungs are the step's models in ladder order.
	Rungs []Rung
}

// Rung is what was observed of one model of a step.
type Rung struct {
	Model string
	// Reached counts sample items that made at least one call here;
	// Answered those that this rung answered (validated).
	Reached, Answered int
	Calls             int
	Input, Output     int64 // tokens over all calls (input includes cached)
	Cached, Thinking  int64
	Cost              float64 // dollars over all calls
	Latency           time.Duration
	// RPM, TPM and RPD are the model's quotas (0: none known).
	RPM, TPM, RPD int
}

// Estimate is the whole source's expected cost and more.
type Estimate struct {
	Expected, Low, High float64
	// Rest* are the same for the items outside the sample, for a run that
	// reuses the sample's results: only their cost is uncertain.
	RestExpected, RestLow, RestHigh float64
	Steps                           []StepEstimate
	// Duration is how long the calls take at the quotas (the slowest
	// model); Days > 1 when a per-day quota makes it a multi-day job.
	Duration time.Duration
	Days     int
	// Wide lists why the range is wide (too few observations), if it is.
	Wide []string
}

// StepEstimate is one step's share.
type StepEstimate struct {
	Name                string
	Items               int
	Expected, Low, High float64
	Rungs               []RungEstimate
}

// RungEstimate is one model's expected share of a step.
type RungEstimate struct {
	Model    string
	Calls    float64 // expected calls over the whole source
	PassRate float64 // of the items that reach it, the share it answers
	Cost     float64 // expected dollars
	// Per call, from the sample.
	Input, Output, Cached, Thinking float64
	Latency                         time.Duration
	Minutes                         float64 // at its quotas
}

// minObservations is how many items or calls make a figure worth a range.
const minObservations = 10

// Of estimates steps.
func Of(steps []Step) Estimate {
	var e Estimate
	var variance, restVariance float64
	perModel := map[string]*modelLoad{}
	for _, s := range steps {
		se := StepEstimate{Name: s.Name}
		n := len(s.ItemCosts)
		frac := 1.0
		if s.Sampled > 0 && s.Total > 0 {
			frac = float64(s.Total) / float64(s.Sampled)
		}
		items := float64(n) * frac
		se.Items = int(math.Round(items))
		if n > 0 {
			mu, sd := meanSD(s.ItemCosts)
			se.Expected = items * mu
			v := items*sd*sd + items*items*sd*sd/float64(n)
			half := z90 * math.Sqrt(v)
			se.Low, se.High = math.Max(0, se.Expected-half), se.Expected+half
			variance += v
			rest := math.Max(0, items-float64(n))
			restVariance += rest*sd*sd + rest*rest*sd*sd/float64(n)
			e.RestExpected += rest * mu
			if n < minObservations {
				e.Wide = append(e.Wide, plural(n, "item")+" of step "+s.Name+" observed")
			}
		}
		for _, r := range s.Rungs {
			re := RungEstimate{Model: r.Model, Latency: r.Latency}
			if r.Reached > 0 {
				re.PassRate = float64(r.Answered) / float64(r.Reached)
			}
			if r.Calls > 0 {
				c := float64(r.Calls)
				re.Calls = c * frac
				re.Cost = r.Cost * frac
				re.Input, re.Output = float64(r.Input)/c, float64(r.Output)/c
				re.Cached, re.Thinking = float64(r.Cached)/c, float64(r.Thinking)/c
				re.Latency = r.Latency / time.Duration(r.Calls)
				re.Minutes = minutes(re.Calls, re.Calls*re.Input, r.RPM, r.TPM)
				l := perModel[r.Model]
				if l == nil {
					l = &modelLoad{rpm: r.RPM, tpm: r.TPM, rpd: r.RPD}
					perModel[r.Model] = l
				}
				l.calls += re.Calls
				l.tokens += re.Calls * re.Input
				if r.Calls < minObservations && r.Reached > 0 {
					e.Wide = append(e.Wide, plural(r.Calls, "call")+" of "+r.Model+" at step "+s.Name)
				}
			}
			se.Rungs = append(se.Rungs, re)
		}
		e.Expected += se.Expected
		e.Steps = append(e.Steps, se)
	}
	half := z90 * math.Sqrt(variance)
	e.Low, e.High = math.Max(0, e.Expected-half), e.Expected+half
	half = z90 * math.Sqrt(restVariance)
	e.RestLow, e.RestHigh = math.Max(0, e.RestExpected-half), e.RestExpected+half
	var worst float64
	for _, l := range perModel {
		worst = math.Max(worst, minutes(l.calls, l.tokens, l.rpm, l.tpm))
		if l.rpd > 0 {
			e.Days = max(e.Days, int(math.Ceil(l.calls/float64(l.rpd))))
		}
	}
	e.Duration = time.Duration(worst * float64(time.Minute))
	return e
}

type modelLoad struct {
	calls, tokens float64
	rpm, tpm, rpd int
}

// minutes is how long calls (with tokens of input) take at rpm and tpm.
func minutes(calls, tokens float64, rpm, tpm int) float64 {
	m := 0.0
	if rpm > 0 {
		m = calls / float64(rpm)
	}
	if tpm > 0 {
		m = math.Max(m, tokens/float64(tpm))
	}
	return m
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, mean // one observation: as uncertain as it is large
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func plural(n int, unit string) string {
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return "only " + s
}
