// Package metrics exposes a run to Prometheus (github.com/prometheus/
// client_golang): counters fed by the run's event stream, gauges read from
// the runner at each scrape, or, for `llmpipe serve`, everything summed from
// the store.
//
// The metric names and labels are a public surface (dashboards and alerts
// are written against them) and are listed in the README:
//
//	llmpipe_items_total{step,outcome}            outcome: ok, failed, skipped, resumed
//	llmpipe_requests_total{model,outcome}        outcome: ok, rate_limit, transient, invalid_output, check_failed, fatal, max_tokens
//	llmpipe_tokens_total{model,kind}             kind: input, output, cached, thinking
//	llmpipe_cost_dollars_total{model}
//	llmpipe_limit_utilization{model,axis}        axis: rpm, tpm, rpd (0–1, the quota window's use of the limit)
//	llmpipe_workers
//	llmpipe_inflight_requests{model}
//	llmpipe_request_duration_seconds{model}      histogram
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// Metric names, exactly as documented.
const (
	NameItems       = "llmpipe_items_total"
	NameRequests    = "llmpipe_requests_total"
	NameTokens      = "llmpipe_tokens_total"
	NameCost        = "llmpipe_cost_dollars_total"
	NameUtilization = "llmpipe_limit_utilization"
	NameWorkers     = "llmpipe_workers"
	NameInflight    = "llmpipe_inflight_requests"
	NameDuration    = "llmpipe_request_duration_seconds"
)

var (
	descUtilization = prometheus.NewDesc(NameUtilization,
		"Use of each model's quota limit over the last quota window (requests per minute, input tokens per minute) or today (requests per day), 0 to 1.",
		[]string{"model", "axis"}, nil)
	descWorkers  = prometheus.NewDesc(NameWorkers, "Calls the run lets be in flight at once.", nil, nil)
	descInflight = prometheus.NewDesc(NameInflight, "Calls in flight to each model.", []string{"model"}, nil)
)

// Run is the Prometheus view of one run in this process. It is a
// runtime.Observer (add it to the run's observers) and a
// prometheus.Collector for the live gauges once Attach has been called.
// All methods are safe for concurrent use.
type Run struct {
	reg      *prometheus.Registry
	items    *prometheus.CounterVec
	requests *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu sync.Mutex
	// replied holds, per step and item, the model whose call returned a
	// reply not yet judged: the reply's parse and checks decide the
	// request's outcome (ok, invalid_output, check_failed).
	replied map[itemKey]string
	stats   func() runtime.Stats
	workers func() int
}

type itemKey struct{ step, item string }

// NewRun makes the metrics of a run, registered on their own registry.
func NewRun() *Run {
	m := &Run{
		reg: prometheus.NewRegistry(),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameItems,
			Help: "Items that reached a terminal state at a step."}, []string{"step", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameRequests,
			Help: "Calls to each model, by outcome: ok, or the runtime's error class."}, []string{"model", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameTokens,
			Help: "Tokens counted by the provider, by kind: input, output, cached (part of input), thinking."}, []string{"model", "kind"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameCost,
			Help: "Dollars spent on calls to each model."}, []string{"model"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: NameDuration,
			Help:    "Latency of calls to each model.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"model"}),
		replied: map[itemKey]string{},
	}
	m.reg.MustRegister(m.items, m.requests, m.tokens, m.cost, m.duration, live{m})
	return m
}

// Attach gives the metrics the running run's live figures (quota use,
// workers, calls in flight), read at each scrape.
func (m *Run) Attach(stats func() runtime.Stats, workers func() int) {
	m.mu.Lock()
	m.stats, m.workers = stats, workers
	m.mu.Unlock()
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Run) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// OnEvent implements runtime.Observer.
func (m *Run) OnEvent(e runtime.Event) {
	switch e.Kind {
	case runtime.EventCallFinished:
		m.duration.WithLabelValues(e.Model).Observe(e.Delay.Seconds())
		if e.Usage != nil {
			u := e.Usage
			m.tokens.WithLabelValues(e.Model, "input").Add(float64(u.PromptTokens))
			m.tokens.WithLabelValues(e.Model, "output").Add(float64(u.OutputTokens))
			m.tokens.WithLabelValues(e.Model, "cached").Add(float64(u.CachedTokens))
			m.tokens.WithLabelValues(e.Model, "thinking").Add(float64(u.ThinkingTokens))
		}
		m.cost.WithLabelValues(e.Model).Add(e.Cost.Dollars())
		if e.Class != "ok" {
			m.requests.WithLabelValues(e.Model, e.Class).Inc()
			return
		}
		m.mu.Lock()
		m.replied[itemKey{e.Step, e.Item}] = e.Model
		m.mu.Unlock()
	case runtime.EventAttemptFailed:
		// Only a reply's verdict: a failed call was counted when it ended.
		switch e.Class {
		case runtime.ClassInvalidOutput.String(), runtime.ClassCheckFailed.String(), runtime.ClassMaxTokens.String():
		default:
			return
		}
		if model, ok := m.judged(e); ok {
			m.requests.WithLabelValues(model, e.Class).Inc()
		}
	case runtime.EventItemSucceeded:
		if model, ok := m.judged(e); ok {
			m.requests.WithLabelValues(model, "ok").Inc()
		}
		m.items.WithLabelValues(e.Step, "ok").Inc()
	case runtime.EventItemFailed:
		m.judged(e) // a reply that middleware turned into a failure
		m.items.WithLabelValues(e.Step, "failed").Inc()
	case runtime.EventItemSkipped:
		m.items.WithLabelValues(e.Step, "skipped").Inc()
	case runtime.EventItemResumed:
		m.items.WithLabelValues(e.Step, "resumed").Inc()
	}
}

// judged takes the reply awaiting a verdict for e's item; false when the
// reply came from the response cache (no call was made).
func (m *Run) judged(e runtime.Event) (string, bool) {
	k := itemKey{e.Step, e.Item}
	m.mu.Lock()
	defer m.mu.Unlock()
	model, ok := m.replied[k]
	delete(m.replied, k)
	return model, ok
}

// live collects the gauges read from the runner at scrape time.
type live struct{ m *Run }

func (l live) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUtilization
	ch <- descWorkers
	ch <- descInflight
}

func (l live) Collect(ch chan<- prometheus.Metric) {
	l.m.mu.Lock()
	stats, workers := l.m.stats, l.m.workers
	l.m.mu.Unlock()
	if workers != nil {
		ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(workers()))
	}
	if stats == nil {
		return
	}
	for id, ms := range stats().Models {
		ch <- prometheus.MustNewConstMetric(descInflight, prometheus.GaugeValue, float64(ms.InFlight), id)
		for _, a := range []struct {
			axis  string
			used  int64
			limit int
		}{{"rpm", ms.SentPerWindow, ms.RPMLimit}, {"tpm", ms.TokensPerWindow, ms.TPMLimit}, {"rpd", int64(ms.DayUsed), ms.RPDLimit}} {
			if a.limit > 0 {
				ch <- prometheus.MustNewConstMetric(descUtilization, prometheus.GaugeValue, float64(a.used)/float64(a.limit), id, a.axis)
			}
		}
	}
}

// Store exposes the same counters summed from a run store, for `llmpipe
// serve --metrics`: items by step and outcome (ok, failed), calls by model
// and how the call ended (ok, or the call's error class: a reply's own
// verdict is not journaled per call), tokens and cost. Sums are read at
// each scrape through sum, which the caller may cache.
func Store(sum func(ctx context.Context) (*store.Overview, error)) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(storeCollector{sum})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

var (
	descItems    = prometheus.NewDesc(NameItems, "Items that reached a terminal state at a step.", []string{"step", "outcome"}, nil)
	descRequests = prometheus.NewDesc(NameRequests, "Calls to each model, by outcome.", []string{"model", "outcome"}, nil)
	descTokens   = prometheus.NewDesc(NameTokens, "Tokens counted by the provider, by kind.", []string{"model", "kind"}, nil)
	descCost     = prometheus.NewDesc(NameCost, "Dollars spent on calls to each model.", []string{"model"}, nil)
)

type storeCollector struct {
	sum func(ctx context.Context) (*store.Overview, error)
}

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descItems
	ch <- descRequests
	ch <- descTokens
	ch <- descCost
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ov, err := c.sum(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descItems, err)
		return
	}
	items := map[[2]string]int{}
	for _, g := range ov.Results {
		outcome := "ok"
		if !g.OK {
			outcome = "failed"
		}
		items[[2]string{g.Step, outcome}] += g.Count
	}
	for k, n := range items {
		ch <- prometheus.MustNewConstMetric(descItems, prometheus.CounterValue, float64(n), k[0], k[1])
	}
	for _, m := range ov.Models {
		for status, n := range m.ByStatus {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), m.Model, status)
		}
		for kind, n := range map[string]int{"input": m.PromptTokens, "output": m.OutputTokens, "cached": m.CachedTokens, "thinking": m.ThinkingTokens} {
			ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(n), m.Model, kind)
		}
		ch <- prometheus.MustNewConstMetric(descCost, prometheus.CounterValue, m.Cost, m.Model)
	}
}
