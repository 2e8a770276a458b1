package web

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

// Summary is the overview page's content and the /api/summary answer.
type Summary struct {
	Pipeline string    `json:"pipeline"`
	Live     bool      `json:"live"` // a run is going
	Run      *RunView  `json:"run,omitempty"`
	Progress Progress  `json:"progress"`
	Steps    []StepRow `json:"steps"`
	Models   []Model   `json:"models"`
	// Escalations counts climbs up the ladder in the live run, by
	// "from -> to" (empty when serving a store).
	Escalations map[string]int64 `json:"escalations"`
	CacheHits   int64            `json:"cache_hits"` // replies from the response cache
	Cost        Cost             `json:"cost"`
	Workers     int              `json:"workers,omitempty"`
	Updated     time.Time        `json:"updated"`

	charts []chart
}

// RunView is one run in the summary and the history.
type RunView struct {
	ID       int64            `json:"id"`
	Started  time.Time        `json:"started,omitzero"`
	Ended    time.Time        `json:"ended,omitzero"`
	Running  bool             `json:"running"`
	Args     []string         `json:"args"`
	Summary  *runtime.Summary `json:"summary,omitempty"`
	Duration time.Duration    `json:"duration_ns,omitempty"`
	// Stalled: the run never ended and has made no call for a while; it
	// was most likely killed (serving a store, the view cannot tell).
	Stalled bool `json:"stalled,omitempty"`
}

// stalledAfter is how long a run that has not ended may go without a call
// before the view stops calling it running.
const stalledAfter = 5 * time.Minute

// Progress is the work done against the work known.
type Progress struct {
	Done    int64   `json:"done"`
	Total   int64   `json:"total"` // -1: unknown
	Percent float64 `json:"percent"`
	PerSec  float64 `json:"items_per_second"` // over the last minute
	ETA     float64 `json:"eta_seconds"`      // -1: unknown
}

// StepRow sums one step under its current fingerprint.
type StepRow struct {
	Step    string  `json:"step"`
	Done    int     `json:"done"` // succeeded
	Failed  int     `json:"failed"`
	Pending int     `json:"pending"` // -1: unknown
	Stale   int     `json:"stale"`   // results under an earlier version of the step
	Cost    float64 `json:"cost"`
	// Rungs counts the results by the rung that ended them (0: the first
	// model); Ladder names the models.
	Rungs  []int    `json:"rungs"`
	Ladder []string `json:"ladder"`
}

// Model sums one model's calls.
type Model struct {
	Model          string  `json:"model"`
	Calls          int     `json:"calls"`
	RateLimited    int64   `json:"rate_limited"` // 429s (in the live or last run)
	CacheHits      int     `json:"cache_hits"`
	Errors         int     `json:"errors"`
	PromptTokens   int     `json:"prompt_tokens"`
	OutputTokens   int     `json:"output_tokens"`
	CachedTokens   int     `json:"cached_tokens"`
	ThinkingTokens int     `json:"thinking_tokens"`
	Cost           float64 `json:"cost"`
	InFlight       int     `json:"in_flight"`
	// RPM is the request limit per minute; UseRPM, UseTPM and UseRPD are
	// the live run's use of each limit (0–1), -1 when unknown.
	RPM    int     `json:"rpm_limit"`
	UseRPM float64 `json:"use_rpm"`
	UseTPM float64 `json:"use_tpm"`
	UseRPD float64 `json:"use_rpd"`
}

// Cost is the money spent and, during a run, where it is heading.
type Cost struct {
	Spent     float64 `json:"spent"`     // every call in the store
	Run       float64 `json:"run"`       // the live or last run
	Projected float64 `json:"projected"` // the run's cost at the end, at its pace so far; 0: unknown
}

// sample is the overview's state at one moment, for the charts.
type sample struct {
	at     time.Time
	done   int64
	cost   float64
	rpmUse map[string]float64 // model → share of its RPM limit, live only
}

const maxSamples = 3600

// summary builds the overview from the store and, in a live run, the
// runner's stats.
func (s *Server) summary(ctx context.Context) (*Summary, error) {
	now := s.opts.Now()
	ov, err := s.storeOverview(ctx, now)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Pipeline: s.opts.Pipeline, Updated: now, Escalations: map[string]int64{}}
	var live *runtime.Stats
	if s.opts.Stats != nil {
		st := s.opts.Stats()
		live = &st
		sum.Live = true
	}
	run, err := s.currentRun(ctx)
	if err != nil {
		return nil, err
	}
	sum.Run = run
	if run != nil && run.Running {
		sum.Live = true
	}

	// Items per source: the live run counts them; serving, the sources
	// are counted once.
	srcItems, srcKnown := s.knownTotal()
	if live != nil && live.Total >= 0 {
		srcItems, srcKnown = live.Total/s.sourceSteps(), true
	} else if !srcKnown {
		srcItems, srcKnown = s.sourceTotal(ctx)
	}
	s.stepRows(sum, ov, srcItems, srcKnown)
	s.modelRows(sum, ov, live, run)
	for _, m := range ov.Models {
		sum.Cost.Spent += m.Cost
		sum.CacheHits += int64(m.CacheHits)
	}
	if live != nil {
		maps.Copy(sum.Escalations, live.Escalations)
		sum.CacheHits = live.CacheHits
		sum.Cost.Run = live.Cost
		if s.opts.Workers != nil {
			sum.Workers = s.opts.Workers()
		}
	} else if run != nil && run.Summary != nil {
		maps.Copy(sum.Escalations, run.Summary.Escalations)
		sum.Cost.Run = run.Summary.Cost
	}

	// Progress: the live run's own count, else the store's against the
	// sources' size.
	if live != nil {
		sum.Progress = Progress{Done: live.Done, Total: int64(live.Total)}
	} else {
		var done int64
		for _, st := range sum.Steps {
			done += int64(st.Done + st.Failed)
		}
		sum.Progress = Progress{Done: done, Total: -1}
		if srcKnown {
			sum.Progress.Total = int64(srcItems) * int64(s.sourceSteps())
		}
	}
	s.record(now, sum, live)
	s.pace(sum, now)

	series, err := s.timeline(ctx, run)
	if err != nil {
		return nil, err
	}
	sum.charts = s.charts(series, sum)
	return sum, nil
}

// storeOverview returns the store's sums, cached for a while: they read
// every result and attempt, so on a big store they are refreshed no more
// often than five times what they took to compute, and at most once a
// second.
func (s *Server) storeOverview(ctx context.Context, now time.Time) (*store.Overview, error) {
	s.mu.Lock()
	if s.overview != nil && now.Sub(s.ovAt) < max(time.Second, 5*s.ovCost) {
		ov := s.overview
		s.mu.Unlock()
		return ov, nil
	}
	s.mu.Unlock()
	start := time.Now()
	ov, err := s.opts.Store.Overview(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.overview, s.ovAt, s.ovCost = ov, now, time.Since(start)
	s.mu.Unlock()
	return ov, nil
}

// currentRun is the live run, else the newest in the store.
func (s *Server) currentRun(ctx context.Context) (*RunView, error) {
	runs, err := s.opts.Store.Runs(ctx, 1)
	if err != nil {
		return nil, err
	}
	var id int64
	if s.opts.RunID != nil {
		id = s.opts.RunID()
	}
	if len(runs) == 0 || (id != 0 && runs[0].ID != id) {
		if id == 0 {
			return nil, nil
		}
		return &RunView{ID: id, Running: true, Args: []string{}}, nil
	}
	rv := runView(runs[0], s.opts.Now())
	if err := s.liveness(ctx, &rv); err != nil {
		return nil, err
	}
	return &rv, nil
}

// liveness decides whether the newest run, which has not ended, is still
// going. Served by its own process it is. Serving a store, another
// process's run is live while it journals attempts; one that stopped
// without ending (killed, crashed) is not.
func (s *Server) liveness(ctx context.Context, rv *RunView) error {
	if !rv.Running || s.opts.Stats != nil {
		return nil
	}
	last, err := s.opts.Store.LastAttempt(ctx)
	if err != nil {
		return err
	}
	if last.Before(rv.Started) {
		last = rv.Started
	}
	if s.opts.Now().Sub(last) > stalledAfter {
		rv.Running, rv.Stalled = false, true
	}
	return nil
}

func runView(r store.Run, now time.Time) RunView {
	rv := RunView{ID: r.ID, Started: r.Started, Ended: r.Ended, Running: r.Ended.IsZero(), Args: redactArgs(r.Args)}
	if len(r.Summary) > 0 {
		var sum runtime.Summary
		if json.Unmarshal(r.Summary, &sum) == nil {
			rv.Summary = &sum
		}
	}
	switch {
	case !r.Ended.IsZero():
		rv.Duration = r.Ended.Sub(r.Started)
	case !r.Started.IsZero():
		rv.Duration = now.Sub(r.Started)
	}
	// A run that never ended and stopped writing long ago crashed; the
	// store cannot tell for sure, so the page says "did not finish".
	return rv
}

// redactArgs hides the value of any flag whose name suggests a secret, in
// case someone passed one on the command line.
func redactArgs(args []string) []string {
	out := make([]string, 0, len(args))
	hide := false
	for _, a := range args {
		if hide {
			out, hide = append(out, "REDACTED"), false
			continue
		}
		name := strings.ToLower(strings.TrimLeft(a, "-"))
		secret := strings.HasPrefix(a, "-") && (strings.Contains(name, "key") || strings.Contains(name, "token") ||
			strings.Contains(name, "secret") || strings.Contains(name, "password") || strings.Contains(name, "auth"))
		if secret {
			if i := strings.IndexByte(a, '='); i >= 0 {
				out = append(out, a[:i+1]+"REDACTED")
				continue
			}
			hide = true
		}
		out = append(out, a)
	}
	return out
}

func (s *Server) stepRows(sum *Summary, ov *store.Overview, srcItems int, srcKnown bool) {
	rows := map[string]*StepRow{}
	var order []string
	fps := map[string]string{}
	if p := s.opts.Program; p != nil {
		for _, st := range p.Steps {
			r := &StepRow{Step: st.Name, Pending: -1, Rungs: make([]int, len(st.Models))}
			for _, m := range st.Models {
				r.Ladder = append(r.Ladder, m.ID)
			}
			rows[st.Name], fps[st.Name] = r, st.Fingerprint()
			order = append(order, st.Name)
		}
	}
	for _, g := range ov.Results {
		r := rows[g.Step]
		if r == nil {
			// A step the pipeline no longer has: everything is stale.
			r = &StepRow{Step: g.Step, Pending: -1}
			rows[g.Step] = r
			order = append(order, g.Step)
		}
		if fp, ok := fps[g.Step]; !ok || fp != g.Fingerprint {
			r.Stale += g.Count
			continue
		}
		if g.OK {
			r.Done += g.Count
		} else {
			r.Failed += g.Count
		}
		r.Cost += g.Cost
		for len(r.Rungs) <= g.Rung {
			r.Rungs = append(r.Rungs, 0)
		}
		r.Rungs[g.Rung] += g.Count
	}
	if srcKnown && s.opts.Program != nil {
		for _, st := range s.opts.Program.Steps {
			if st.FromSource != nil {
				r := rows[st.Name]
				r.Pending = max(0, srcItems-r.Done-r.Failed)
			}
		}
	}
	for _, name := range order {
		sum.Steps = append(sum.Steps, *rows[name])
	}
}

func (s *Server) modelRows(sum *Summary, ov *store.Overview, live *runtime.Stats, run *RunView) {
	byModel := map[string]*Model{}
	get := func(id string) *Model {
		m := byModel[id]
		if m == nil {
			m = &Model{Model: id, UseRPM: -1, UseTPM: -1, UseRPD: -1}
			byModel[id] = m
		}
		return m
	}
	if p := s.opts.Program; p != nil {
		for _, m := range p.Models {
			get(m.ID).RPM = m.RPM
		}
	}
	for _, mc := range ov.Models {
		m := get(mc.Model)
		m.Calls, m.CacheHits, m.Errors, m.Cost = mc.Calls, mc.CacheHits, mc.Errors, mc.Cost
		m.PromptTokens, m.OutputTokens, m.CachedTokens, m.ThinkingTokens = mc.PromptTokens, mc.OutputTokens, mc.CachedTokens, mc.ThinkingTokens
	}
	var models map[string]runtime.ModelStats
	switch {
	case live != nil:
		models = live.Models
	case run != nil && run.Summary != nil:
		models = run.Summary.Models
	}
	for id, ms := range models {
		m := get(id)
		m.RateLimited = ms.RateLimited
		if live == nil {
			continue
		}
		m.InFlight = ms.InFlight
		if ms.RPMLimit > 0 {
			m.RPM = ms.RPMLimit
			m.UseRPM = float64(ms.SentPerWindow) / float64(ms.RPMLimit)
		}
		if ms.TPMLimit > 0 {
			m.UseTPM = float64(ms.TokensPerWindow) / float64(ms.TPMLimit)
		}
		if ms.RPDLimit > 0 {
			m.UseRPD = float64(ms.DayUsed) / float64(ms.RPDLimit)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(byModel)) {
		sum.Models = append(sum.Models, *byModel[id])
	}
}

// sourceSteps counts the steps that read a source directly: the live
// runner's Total counts each source item once per such step.
func (s *Server) sourceSteps() int {
	n := 0
	if p := s.opts.Program; p != nil {
		for _, st := range p.Steps {
			if st.FromSource != nil {
				n++
			}
		}
	}
	return max(n, 1)
}

func (s *Server) sourceTotal(ctx context.Context) (int, bool) {
	if n, ok := s.knownTotal(); ok {
		return n, true
	}
	if s.opts.Total == nil {
		return 0, false
	}
	n, ok := s.opts.Total(ctx)
	if !ok {
		return 0, false
	}
	s.mu.Lock()
	s.total = &n
	s.mu.Unlock()
	return n, true
}

func (s *Server) knownTotal() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total == nil {
		return 0, false
	}
	return *s.total, true
}

// record keeps a sample for the pace and the utilization chart.
func (s *Server) record(now time.Time, sum *Summary, live *runtime.Stats) {
	smp := sample{at: now, done: sum.Progress.Done, cost: sum.Cost.Run}
	if live != nil {
		smp.rpmUse = map[string]float64{}
		for _, m := range sum.Models {
			if m.UseRPM >= 0 {
				smp.rpmUse[m.Model] = m.UseRPM
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.samples); n > 0 && now.Sub(s.samples[n-1].at) < 500*time.Millisecond {
		s.samples[n-1] = smp
		return
	}
	if len(s.samples) >= maxSamples {
		// Keep the whole run in view at half the resolution.
		kept := s.samples[:0]
		for i := 0; i < len(s.samples); i += 2 {
			kept = append(kept, s.samples[i])
		}
		s.samples = kept
	}
	s.samples = append(s.samples, smp)
}

// pace fills the rate, the ETA and the projected cost from the samples of
// the last minute.
func (s *Server) pace(sum *Summary, now time.Time) {
	s.mu.Lock()
	var first *sample
	for i := range s.samples {
		if now.Sub(s.samples[i].at) <= time.Minute {
			first = &s.samples[i]
			break
		}
	}
	s.mu.Unlock()
	p := &sum.Progress
	if p.Total > 0 {
		p.Percent = 100 * float64(p.Done) / float64(p.Total)
	}
	p.ETA = -1
	if first == nil {
		return
	}
	dt := now.Sub(first.at).Seconds()
	if dt < 1 {
		return
	}
	p.PerSec = float64(p.Done-first.done) / dt
	if !sum.Live {
		return
	}
	if p.PerSec > 0 && p.Total > 0 {
		p.ETA = float64(p.Total-p.Done) / p.PerSec
	}
	if p.Total > 0 && p.Done > 0 && sum.Cost.Run > 0 {
		sum.Cost.Projected = sum.Cost.Run * float64(p.Total) / float64(p.Done)
	}
}

// sampleLoop samples a live run once a second, so the charts cover the
// run even while nobody watches. Serving a store, the page's own refreshes
// are the samples.
func (s *Server) sampleLoop(ctx context.Context) {
	if s.opts.Stats == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.summary(ctx); err != nil && ctx.Err() != nil {
				return
			}
		}
	}
}

// timeline keeps the per-second calls and cost of the current run, read
// from the store incrementally by journal id.
type timeline struct {
	runID  int64
	lastID int64
	calls  map[int64]map[string]int // second → model → calls
	cost   map[int64]float64
}

type series struct {
	seconds []int64 // sorted
	calls   map[string][]float64
	cost    []float64 // cumulative
}

func (s *Server) timeline(ctx context.Context, run *RunView) (series, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out series
	if run == nil {
		return out, nil
	}
	tl := &s.tl
	if tl.runID != run.ID {
		*tl = timeline{runID: run.ID, calls: map[int64]map[string]int{}, cost: map[int64]float64{}}
	}
	pts, last, err := s.opts.Store.Timeline(ctx, run.ID, tl.lastID)
	if err != nil {
		return out, err
	}
	tl.lastID = last
	for _, p := range pts {
		m := tl.calls[p.Second]
		if m == nil {
			m = map[string]int{}
			tl.calls[p.Second] = m
		}
		m[p.Model] += p.Calls
		tl.cost[p.Second] += p.Cost
	}
	if len(tl.calls) == 0 {
		return out, nil
	}
	lo, hi := int64(1<<62), int64(0)
	models := map[string]bool{}
	for sec, m := range tl.calls {
		lo, hi = min(lo, sec), max(hi, sec)
		for id := range m {
			models[id] = true
		}
	}
	out.calls = map[string][]float64{}
	var total float64
	for sec := lo; sec <= hi; sec++ {
		out.seconds = append(out.seconds, sec)
		total += tl.cost[sec]
		out.cost = append(out.cost, total)
		for id := range models {
			out.calls[id] = append(out.calls[id], float64(tl.calls[sec][id]))
		}
	}
	return out, nil
}

// Overview returns the store's sums as the overview uses them (cached the
// same way), for other readers such as `serve --metrics`.
func (s *Server) Overview(ctx context.Context) (*store.Overview, error) {
	return s.storeOverview(ctx, s.opts.Now())
}
