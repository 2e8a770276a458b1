package main

import (
	"errors"
	"strconv"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// Flag values that refuse what cannot mean what was typed. Left out, each
// flag keeps its zero value, which means "not set" (no budget, every item,
// the pipeline's workers); given, it must be a real limit: --budget 0 or
// --limit -5 used to mean "no limit" without a word.

// budgetFlag is --budget: dollars, more than 0.
type budgetFlag struct{ p *float64 }

func (f budgetFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.FormatFloat(*f.p, 'f', -1, 64)
}

func (f budgetFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number of dollars")
	}
	if !(v > 0) || v > 1e12 { // !(v > 0) also catches NaN
		return errors.New("must be more than $0; leave --budget out for no budget")
	}
	*f.p = v
	return nil
}

// countFlag is an integer flag with bounds: --limit and --workers.
type countFlag struct {
	p    *int
	max  int    // 0: no upper bound
	hint string // said after "must be at least 1"
}

func (f countFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.Itoa(*f.p)
}

func (f countFlag) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a whole number")
	}
	if v < 1 {
		return errors.New("must be at least 1" + f.hint)
	}
	if f.max > 0 && v > f.max {
		return errors.New("must be at most " + strconv.Itoa(f.max))
	}
	*f.p = v
	return nil
}

// durationFlag is a duration that must be more than 0 (--max-outage).
type durationFlag struct {
	p    *time.Duration
	name string
}

func (f durationFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return f.p.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (like 90s or 5m)")
	}
	if d <= 0 {
		return errors.New("must be more than 0; leave --" + f.name + " out for the default")
	}
	*f.p = d
	return nil
}

func limitFlag(p *int) countFlag {
	return countFlag{p: p, hint: "; leave --limit out to take every item"}
}

func workersFlag(p *int) countFlag {
	return countFlag{p: p, max: runtime.MaxWorkers, hint: "; leave --workers out for the pipeline's setting"}
}
