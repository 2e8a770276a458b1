package runtime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime/clock"
	"github.com/llmpipe/llmpipe/runtime/quota"
)

// Settings are the knobs of one run, as the command's flags and the Go API
// set them. The one struct flows unchanged from the flags through
// llmpipe.RunOptions (which embeds it) into Options (which embeds it too):
// a new setting is a field here and the code that reads it, nothing more.
type Settings struct {
	Workers     int     // > 0 overrides config.workers
	Limit       int     // > 0: at most this many items from each source
	Budget      float64 // > 0 overrides config.budget
	Fresh       bool    // ignore results stored by earlier runs
	NoCache     bool    // do not answer from the response cache
	RetryFailed bool    // re-run items whose stored result is a failure
	// MaxOutage is how long the endpoint may stay unreachable (every call
	// refused) before the run stops, leaving unfinished items pending;
	// 0 means DefaultMaxOutage (5m).
	MaxOutage time.Duration
	// Plan is the version of the plan the run starts with (each Reload
	// adds one), stamped on every record as _meta.plan; 0 for a fresh
	// run.
	Plan int
	// Args is the command line that started the run, kept with the run
	// in the store (status and show print it); nil from the Go API.
	Args []string

	// Observers receive every event of the run, from the runner's
	// goroutines and the cache manager's: OnEvent must be safe for
	// concurrent use and quick.
	Observers []Observer
	// Middleware wraps every item, outermost first.
	Middleware []Middleware

	// Batch sends every step's first attempts through batch jobs (Gemini
	// Batch Mode, --batch); steps with batch = true, or a config with
	// batch = true, do without it.
	Batch bool
	// BatchPoll is the first wait before polling a job (default 30s);
	// BatchDeadline cancels a job still running that long after its
	// creation and hands its items back (default 24h).
	BatchPoll, BatchDeadline time.Duration
}

// Options wires a run to the world. Provider, OpenSource and OpenSink are
// required; everything else has a sensible zero value.
type Options struct {
	Settings

	Provider   Provider
	OpenSource OpenSource
	OpenSink   OpenSink
	Store      Store // nil: nothing is journaled and nothing resumes

	// Cost prices one call's usage for a model id; nil prices everything at 0.
	Cost func(modelID string, u Usage) Money
	// Price returns a model's prices, for budget reservations; nil: free.
	Price func(m *interp.Model) interp.Price
	// Pacer paces calls to each model's quota; nil: unlimited.
	Pacer Pacer
	// Quotas gives the quota book of a program (stdlib/catalog's Book).
	// With a Pacer, New hands the pacer every model's limits from the
	// run's book, and Reload those of the edited program's; nil leaves
	// the pacer's limits alone.
	Quotas func(prog *interp.Program) QuotaBook
	// Caches manages shared-context caches; nil sends cache content
	// inline. New hands it the runner's event emitter.
	Caches CacheManager

	// Batches wires Batch Mode: prices, limits, display names
	// (batch_run.go).
	Batches BatchOptions

	Clock clock.Clock // nil: clock.Real
	Seed  uint64      // jitter; 0 picks one
}

// Outcome says how a run ended.
type Outcome string

const (
	OutcomeCompleted   Outcome = "completed"   // every item reached a terminal state
	OutcomeBudget      Outcome = "budget"      // stopped by the budget
	OutcomeInterrupted Outcome = "interrupted" // stopped by the caller
)

// Summary is what Run returns.
type Summary struct {
	Stats
	Outcome Outcome `json:"outcome"`
	RunID   int64   `json:"run_id,omitempty"`
	Budget  float64 `json:"budget,omitempty"`
	// CacheCost is what shared-context caches cost (creation and storage);
	// it is included in Cost.
	CacheCost float64 `json:"cache_cost,omitempty"`
	// CacheSaved is what cached tokens saved against sending them inline.
	CacheSaved float64 `json:"cache_saved,omitempty"`
	// CachesCreated counts the cached contents the run created (one per
	// cache block and model used, plus re-creations); CachesInline the
	// (cache, model) pairs sent inline because the content was too small.
	CachesCreated int `json:"caches_created,omitempty"`
	CachesInline  int `json:"caches_inline,omitempty"`
	// BatchLive counts batch jobs still running on the service when the
	// run stopped (a Ctrl-C leaves them running; the next run collects
	// them).
	BatchLive int `json:"batch_live,omitempty"`
}

// Runner executes one Program. Stats, SetWorkers, Drain and Reload may be
// called from other goroutines while Run runs.
type Runner struct {
	opts  Options
	clock clock.Clock
	stats *counters
	bud   *budget
	caps  outputCaps // learned output caps per step and model
	sem   *semaphore
	brk   *breaker // holds calls while the endpoint is unreachable

	plan atomic.Pointer[plan]

	workers   atomic.Int64
	auto      *autoSizer  // nil unless the run started with workers = auto
	pinned    atomic.Bool // SetWorkers was called: the sizer leaves the pool alone
	drainOnce sync.Once
	drainCh   chan struct{} // closed: take no new items
	runID     int64
	liveRunID atomic.Int64 // runID, for RunID from other goroutines

	rngMu sync.Mutex
	rng   *rand.Rand

	stagesMu sync.Mutex        // guards stages and workerCtx, set when Run wires the stages
	stages   map[string]*stage // by step name, fixed for the run

	fatalMu  sync.Mutex
	fatalErr error // a store or sink failure that stopped the run

	batch *batchRun // nil when no step is batched

	sinks       *sinkSet
	workerGroup sync.WaitGroup  // stage workers, which SetWorkers may add to
	workerCtx   context.Context // the run's own: workers that SetWorkers adds run under it
	sinkCtx     context.Context // workerCtx without its cancel: a record being written is finished
}

// plan is the Program in force plus what the runtime derives from it.
type plan struct {
	prog    *interp.Program
	version int
	steps   map[string]*interp.Step
}

func newPlan(prog *interp.Program, version int) *plan {
	p := &plan{prog: prog, version: version, steps: map[string]*interp.Step{}}
	for _, s := range prog.Steps {
		p.steps[s.Name] = s
	}
	return p
}

// New prepares a run; nothing starts until Run.
func New(prog *interp.Program, opts Options) (*Runner, error) {
	if opts.Provider == nil || opts.OpenSource == nil || opts.OpenSink == nil {
		return nil, errors.New("runtime: Options needs Provider, OpenSource and OpenSink")
	}
	if len(prog.Steps) == 0 {
		return nil, errors.New("runtime: the pipeline has no steps")
	}
	if err := checkBatch(prog, opts); err != nil {
		return nil, err
	}
	opts.Batches.All = opts.Batches.All || opts.Batch
	if opts.BatchPoll > 0 {
		opts.Batches.Poll = opts.BatchPoll
	}
	if opts.BatchDeadline > 0 {
		opts.Batches.Deadline = opts.BatchDeadline
	}
	opts.Batches.defaults()
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real
	}
	seed := opts.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	r := &Runner{
		opts:    opts,
		clock:   clk,
		stats:   newCounters(clk.Now()),
		bud:     &budget{limit: Dollars(prog.Config.Budget)},
		drainCh: make(chan struct{}),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if opts.Budget > 0 {
		r.bud.limit = Dollars(opts.Budget)
	}
	r.brk = newBreaker(clk, opts.MaxOutage, r.emit)
	r.plan.Store(newPlan(prog, opts.Plan))
	r.setLimits(prog)
	if opts.Caches != nil {
		opts.Caches.SetEmitter(r.emit)
		if cb, ok := opts.Caches.(CacheBudgeted); ok {
			cb.SetBudget(cacheBudget{r.bud})
		}
	}
	n := opts.Workers
	if n <= 0 {
		n = prog.Config.Workers
	}
	if n <= 0 {
		n = min(autoWorkers(prog, opts.Pacer), r.maxWorkers())
		r.auto = &autoSizer{base: n}
	}
	n = min(n, MaxWorkers)
	r.workers.Store(int64(n))
	r.sem = newSemaphore(n)
	return r, nil
}

// QuotaBook answers the quota of a program's model blocks.
type QuotaBook interface {
	Limits(m *interp.Model) quota.Limits
}

// setLimits gives the pacer the quota of each of prog's models.
func (r *Runner) setLimits(prog *interp.Program) {
	if r.opts.Pacer == nil || r.opts.Quotas == nil {
		return
	}
	book := r.opts.Quotas(prog)
	for _, m := range prog.Models {
		r.opts.Pacer.SetLimits(m.ID, book.Limits(m))
	}
}

// MaxWorkers bounds the calls in flight, from any setting: each worker is a
// goroutine per step, and a million of them cost more to start and stop than
// the calls they make. No quota tier needs more in flight.
const MaxWorkers = interp.MaxWorkers

// autoWorkers sizes concurrency when the pipeline says workers = auto: the
// pacer's suggestion (Little's law over the quota) when there is one,
// otherwise a number that keeps a few hundred calls in flight.
func autoWorkers(prog *interp.Program, p Pacer) int {
	if p != nil {
		n := 0
		for _, m := range prog.Models {
			n += p.SuggestConcurrency(m.ID)
		}
		if n > 0 {
			return min(n, 2000)
		}
	}
	return 64
}

// Stats returns a snapshot of the run's counters.
func (r *Runner) Stats() Stats {
	s := r.stats.snapshot(r.clock.Now())
	s.Workers = r.Workers()
	if r.batch != nil {
		s.BatchJobs = r.batch.stats()
	}
	if r.opts.Pacer != nil {
		s.Models = map[string]ModelStats{}
		for _, m := range r.plan.Load().prog.Models {
			s.Models[m.ID] = r.opts.Pacer.Stats(m.ID)
		}
	}
	return s
}

// Workers is the current concurrency limit.
func (r *Runner) Workers() int { return int(r.workers.Load()) }

// RunID is the run's id in the store: 0 before Run has recorded it, or
// without a store. Safe to call from any goroutine.
func (r *Runner) RunID() int64 { return r.liveRunID.Load() }

// SetWorkers changes how many calls may be in flight at once, while running.
// The pool then stays at n: a workers = auto run stops sizing it.
func (r *Runner) SetWorkers(n int) {
	r.pinned.Store(true)
	r.resize(n)
}

// resize changes the pool's size, starting workers if it grows.
func (r *Runner) resize(n int) {
	n = max(1, min(n, MaxWorkers))
	old := r.workers.Swap(int64(n))
	r.sem.setLimit(n)
	r.stagesMu.Lock()
	defer r.stagesMu.Unlock()
	for _, st := range r.stages {
		if st.calling != nil {
			st.calling.setLimit(n)
		}
		if int64(n) > old {
			st.grow(r.workerCtx, n)
		}
	}
}

// Drain stops taking new items; calls in flight finish and are written.
// It is what the first Ctrl-C does.
func (r *Runner) Drain() {
	r.drainOnce.Do(func() { close(r.drainCh) })
}

func (r *Runner) draining() bool {
	select {
	case <-r.drainCh:
		return true
	default:
		return false
	}
}

func (r *Runner) emit(e Event) {
	if len(r.opts.Observers) == 0 {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.clock.Now()
	}
	for _, o := range r.opts.Observers {
		o.OnEvent(e)
	}
}

func (r *Runner) jitter(n int, min, max, server time.Duration) time.Duration {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return backoffDelay(n, min, max, server, r.rng)
}

// Run executes the pipeline until every item is terminal, the budget is
// spent, Drain is called, or ctx ends. Everything finished is stored and
// written before Run returns; no goroutine outlives it.
func Run(ctx context.Context, prog *interp.Program, opts Options) (*Summary, error) {
	r, err := New(prog, opts)
	if err != nil {
		return nil, err
	}
	return r.Run(ctx)
}

// Run executes the pipeline; see the package function Run.
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	p := r.plan.Load()
	// Everything that can refuse to start is opened before any output
	// changes: the sources, then the sinks (which leave their files alone
	// until their first record), then the run's row in the store.
	srcs, err := r.openSources(ctx, p)
	if err != nil {
		return nil, err
	}
	sinks, err := openSinks(ctx, p.prog, r.opts.OpenSink)
	if err != nil {
		closeSources(srcs)
		return nil, err
	}
	r.sinks = sinks
	if rs, ok := r.opts.Store.(Resetter); ok && r.opts.Fresh {
		if err := rs.Reset(ctx); err != nil {
			closeSources(srcs)
			sinks.close(context.WithoutCancel(ctx), false)
			return nil, err
		}
	}
	if r.opts.Store != nil {
		id, err := r.opts.Store.BeginRun(ctx, RunInfo{Pipeline: p.prog.File, Started: r.stats.started, Args: r.opts.Args})
		if err != nil {
			closeSources(srcs)
			sinks.close(context.WithoutCancel(ctx), false)
			return nil, fmt.Errorf("starting run: %w", err)
		}
		r.runID = id
		r.liveRunID.Store(id)
	}
	r.emit(Event{Kind: EventRunStarted, Plan: p.version})
	for _, s := range p.prog.Steps {
		if r.batched(p, s) {
			r.batch = newBatchRun(r)
			if err := r.batch.load(ctx); err != nil {
				return nil, fmt.Errorf("reading batch jobs: %w", err)
			}
			break
		}
	}

	var sizer sync.WaitGroup
	sizeCtx, stopSizer := context.WithCancel(ctx)
	if r.auto != nil {
		sizer.Go(func() { r.autosize(sizeCtx) })
	}
	err = r.execute(ctx, p, srcs)
	stopSizer()
	sizer.Wait()

	// Sinks close after every stage is done, so all finished work is on
	// disk. A run that did not complete aborts the sinks it wrote nothing
	// to, which keeps what an earlier run left there.
	completed := err == nil && ctx.Err() == nil && !r.draining() && !r.bud.hit()
	if cerr := sinks.close(context.WithoutCancel(ctx), completed); cerr != nil && err == nil {
		err = cerr
	}
	if r.opts.Caches != nil {
		r.opts.Caches.Close(context.WithoutCancel(ctx))
	}
	sum := &Summary{Stats: r.Stats(), Outcome: OutcomeCompleted, RunID: r.runID, Budget: r.bud.limit.Dollars(), BatchLive: r.liveBatchJobs()}
	// Before the summary goes anywhere: the journal's copy is what status
	// adds the caches' costs from.
	r.addCacheCosts(sum)
	switch {
	case r.bud.hit():
		sum.Outcome = OutcomeBudget
		r.emit(Event{Kind: EventBudgetExhausted, Cost: Dollars(sum.Cost)})
	case ctx.Err() != nil || r.draining():
		sum.Outcome = OutcomeInterrupted
	}
	r.emit(Event{Kind: EventRunFinished, Cost: Dollars(sum.Cost), Message: string(sum.Outcome)})
	if r.opts.Store != nil {
		if serr := endRun(context.WithoutCancel(ctx), r.opts.Store, r.runID, sum); serr != nil && err == nil {
			err = serr
		}
	}
	if err == nil && sum.Outcome == OutcomeBudget {
		// The budget as written: "%.2f" would show $0.0005 as $0.00.
		// Six decimals: at four, a spend just under a small budget would
		// print as the budget itself.
		err = fmt.Errorf("%w: spent $%.6f of $%s", ErrBudgetExceeded, sum.Cost, strconv.FormatFloat(sum.Budget, 'f', -1, 64))
		if n := sum.BudgetStopped; n > 0 {
			err = fmt.Errorf("%w; %d items stopped, left undone", err, n)
		}
	}
	return sum, err
}

// addCacheCosts adds what the run's shared-context caches cost (creation
// and storage, known once the manager has closed them) to the summary.
func (r *Runner) addCacheCosts(sum *Summary) {
	if r.opts.Caches == nil {
		return
	}
	c := r.opts.Caches.Costs()
	// In nano-dollars, so the dollars add up without float noise.
	cache := Dollars(c.Creation) + Dollars(c.Storage)
	sum.CacheCost = cache.Dollars()
	sum.Cost = (Dollars(sum.Cost) + cache).Dollars()
	sum.CacheSaved = (Dollars(sum.CachedSaving) - cache).Dollars()
	sum.CachesCreated, sum.CachesInline = c.Caches, c.Inline
}

// defaultFailedPath is where a step's failures go when no sink reads
// step.failed: next to the first sink's file, else out/ beside the pipeline.
func defaultFailedPath(prog *interp.Program, step string) string {
	dir := filepath.Join(prog.Dir, "out")
	for _, s := range prog.Sinks {
		dir = filepath.Dir(s.Path)
		break
	}
	return filepath.Join(dir, step+".failed.jsonl")
}
