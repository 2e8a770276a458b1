package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmpipe/llmpipe/interp"
)

// BatchOptions configure Batch Mode (Options.Batches); New fills All,
// Poll and Deadline from the Settings' Batch, BatchPoll and BatchDeadline.
type BatchOptions struct {
	// All sends every step's first attempts through batch jobs (--batch);
	// otherwise only steps with batch = true, or all with config batch.
	All bool
	// Poll is the first wait before polling a job; polls back off to
	// MaxPoll. Defaults 30s and 10 × Poll (at most 5m, at least Poll).
	Poll, MaxPoll time.Duration
	// Deadline cancels a job still running this long after its creation
	// and hands its items back. Default 24h.
	Deadline time.Duration
	// Linger is how long a partly filled job waits for more items before
	// it is sent. Default 2s.
	Linger time.Duration
	// Cost prices a batch call's usage; nil: half of Options.Cost.
	Cost func(modelID string, u Usage) Money
	// Price is a model's batch prices, for reservations; nil: half of
	// Options.Price's input and output prices.
	Price func(m *interp.Model) interp.Price
	// Tokens is a model's enqueued-token limit (input tokens summed over
	// its live jobs); nil or 0: no limit known.
	Tokens func(m *interp.Model) int
	// Name starts every job's display name (the pipeline's name).
	Name string
	// MaxItems and MaxBytes cap one job (defaults 50,000 items and
	// 1.5 GB of requests, under the service's 2 GB input file).
	MaxItems, MaxBytes int
}

const (
	defaultBatchPoll     = 30 * time.Second
	defaultBatchDeadline = 24 * time.Hour
	defaultBatchLinger   = 2 * time.Second
	defaultBatchItems    = 50_000
	defaultBatchBytes    = 1500 << 20
	maxLiveJobs          = 100 // the service's concurrent batch jobs
	maxJobTries          = 3   // jobs an item may go into before it goes online
	maxCreateTries       = 5   // transient create failures before the items go online
)

func (o *BatchOptions) defaults() {
	if o.Poll <= 0 {
		o.Poll = defaultBatchPoll
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = min(10*o.Poll, 5*time.Minute)
	}
	o.MaxPoll = max(o.MaxPoll, o.Poll)
	if o.Deadline <= 0 {
		o.Deadline = defaultBatchDeadline
	}
	if o.Linger <= 0 {
		o.Linger = defaultBatchLinger
	}
	if o.MaxItems <= 0 {
		o.MaxItems = defaultBatchItems
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultBatchBytes
	}
}

// BatchJobStats is one job as the progress line and the summary show it.
type BatchJobStats struct {
	Name        string     `json:"name,omitempty"`
	DisplayName string     `json:"display_name"`
	Step        string     `json:"step"`
	Model       string     `json:"model"`
	State       BatchState `json:"state"`
	Items       int        `json:"items"`
	Succeeded   int        `json:"succeeded"`
	Failed      int        `json:"failed"`
}

// batchAnswer is a job's result for one item, consumed by the item's next
// callOnce as if the call had just returned it.
type batchAnswer struct {
	job  string
	req  *Request
	key  string
	resp *Response
	err  error
}

// errParked stops an item's attempts loop so its next attempt goes into a
// new job (batch_retries = "batch").
var errParked = errors.New("parked for a batch job")

// batchRun is the run-wide Batch Mode state: room under each model's
// enqueued-token limit, the jobs of the run, the live jobs found in the
// store at the start.
type batchRun struct {
	r  *Runner
	bp BatchProvider
	bs BatchStore // nil without a store

	mu     sync.Mutex
	enq    map[string]int // model → estimated tokens in its live jobs
	liveN  int
	room   chan struct{} // closed and replaced when a job ends
	jobs   []*jobRun
	stages map[string]*batchStage
	// learned is, per model, an enqueued-token limit the service showed
	// to be tighter than the configured one (a lone job refused).
	learned map[string]int
	seq     atomic.Int64

	live     map[string][]*BatchJob // by step: jobs not ended, from the store
	listOnce sync.Once
	listed   map[string]BatchStatus // by display name, for adoption
	listErr  error
}

// batched reports whether a step's first attempts go into batch jobs.
func (r *Runner) batched(p *plan, s *interp.Step) bool {
	return r.opts.Batches.All || s.Batch || p.prog.Config.Batch
}

// checkBatch says why Batch Mode cannot run the program, if it cannot.
func checkBatch(prog *interp.Program, opts Options) error {
	var steps []*interp.Step
	for _, s := range prog.Steps {
		if opts.Batch || opts.Batches.All || s.Batch || prog.Config.Batch {
			steps = append(steps, s)
		}
	}
	if len(steps) == 0 {
		return nil
	}
	if prog.Config.FreeTier {
		return errors.New("batch: the free tier has no Batch Mode quota; set config tier to your paid tier (1, 2 or 3), or run without batch")
	}
	if _, ok := opts.Provider.(BatchProvider); !ok {
		return errors.New("batch: the provider has no Batch Mode (it needs the Gemini API)")
	}
	for _, s := range steps {
		if m := s.Models[0]; m.Provider == interp.ProviderVertex || m.Provider == interp.ProviderOpenAI || !strings.HasPrefix(strings.TrimPrefix(m.ID, "models/"), "gemini-") {
			return fmt.Errorf("batch: step %q starts its ladder with %q, which is not a Gemini API model; Batch Mode takes Gemini models only (put a gemini-… model first, or run the step online)", s.Name, m.ID)
		}
	}
	return nil
}

func newBatchRun(r *Runner) *batchRun {
	br := &batchRun{r: r, enq: map[string]int{}, learned: map[string]int{}, room: make(chan struct{}), stages: map[string]*batchStage{}, live: map[string][]*BatchJob{}}
	br.bp, _ = r.opts.Provider.(BatchProvider)
	br.bs, _ = r.opts.Store.(BatchStore)
	return br
}

// load reads the live jobs from the store, once per run.
func (br *batchRun) load(ctx context.Context) error {
	if br.bs == nil {
		return nil
	}
	jobs, err := br.bs.LiveBatchJobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		br.live[j.Step] = append(br.live[j.Step], j)
		// Room is taken from the start, so new jobs do not crowd it out.
		br.enq[j.Model] += j.Tokens
		br.liveN++
	}
	return nil
}

// learn lowers a model's enqueued-token limit to what the service showed.
func (br *batchRun) learn(model string, tokens int) {
	br.mu.Lock()
	if l := br.learned[model]; l == 0 || tokens < l {
		br.learned[model] = max(tokens, 1)
	}
	br.mu.Unlock()
}

// ended frees a job's room and wakes whoever waits for it.
func (br *batchRun) ended(model string, tokens int) {
	br.mu.Lock()
	br.enq[model] -= tokens
	br.liveN--
	close(br.room)
	br.room = make(chan struct{})
	br.mu.Unlock()
}

// adoptName finds the service's name of a job created under displayName
// whose name was never stored (a crash between create and commit).
func (br *batchRun) adoptName(ctx context.Context, displayName string) (string, bool, error) {
	br.listOnce.Do(func() {
		l, err := br.bp.ListBatches(ctx)
		br.listErr = err
		br.listed = map[string]BatchStatus{}
		for _, s := range l {
			if s.DisplayName != "" {
				br.listed[s.DisplayName] = s
			}
		}
	})
	if br.listErr != nil {
		return "", false, br.listErr
	}
	s, ok := br.listed[displayName]
	return s.Name, ok, nil
}

// stats lists the run's jobs for Stats.
func (br *batchRun) stats() []BatchJobStats {
	br.mu.Lock()
	jobs := append([]*jobRun(nil), br.jobs...)
	br.mu.Unlock()
	out := make([]BatchJobStats, len(jobs))
	for i, j := range jobs {
		out[i] = j.snapshot()
	}
	return out
}

// jobRun is one job this run created or resumed.
type jobRun struct {
	stage  *batchStage
	rec    *BatchJob
	model  *interp.Model
	items  map[string]*jobItem // by key
	order  []*jobItem
	tokens int
	worst  Money // the budget reservation, settled when the job ends
	// reserved: worst was reserved by this run (a resumed job's was not).
	reserved bool
	// byUs: the run cancelled the job itself (deadline), so its items are
	// handed back rather than left for the next run.
	byUs bool

	mu     sync.Mutex
	status BatchStatus
}

func (j *jobRun) snapshot() BatchJobStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := BatchJobStats{Name: j.rec.Name, DisplayName: j.rec.DisplayName, Step: j.rec.Step, Model: j.rec.Model,
		State: j.status.State, Items: len(j.order), Succeeded: j.status.Succeeded, Failed: j.status.Failed}
	if s.State == "" {
		s.State = BatchPending
	}
	return s
}

func (j *jobRun) setState(st BatchState) {
	j.mu.Lock()
	j.status.State = st
	j.mu.Unlock()
}

// jobItem is one item's request in a job. it is nil for an item of a
// resumed job that this run has not reached yet.
type jobItem struct {
	key, item, reqKey string
	it                *itemRun
	req               *Request
	tokens, bytes     int
	worst             Money
	taken             bool // the job's end has dealt with it (guarded by the stage's mu)
}

// batchStage runs one batched step: it gathers prepared items into jobs,
// polls them, and hands each result to a continuation that runs the same
// attempts loop as an online item.
type batchStage struct {
	r    *Runner
	br   *batchRun
	st   *stage
	step *interp.Step

	pending []*jobItem
	pendTok int
	pendB   int

	mu       sync.Mutex
	waiting  map[string]*jobItem // item id → its request in a resumed job
	blocked  map[string]bool     // items of a job that could be neither found nor ruled out
	requeued []*itemRun
	active   int           // live jobs of this stage
	contN    int           // continuations running (they may park items)
	wake     chan struct{} // a job ended or items came back

	polls sync.WaitGroup
	conts sync.WaitGroup
	sem   chan struct{} // bounds the continuations running at once
}

func (br *batchRun) newStage(st *stage, step *interp.Step, workers int) *batchStage {
	b := &batchStage{r: br.r, br: br, st: st, step: step, waiting: map[string]*jobItem{}, blocked: map[string]bool{},
		wake: make(chan struct{}, 1), sem: make(chan struct{}, max(workers, 1))}
	br.stages[step.Name] = b
	return b
}

func (b *batchStage) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// run is the stage's collector: it stands for all the stage's workers.
func (b *batchStage) run(ctx context.Context) {
	r := b.r
	defer r.workerGroup.Done()
	defer b.st.exit()
	defer b.conts.Wait()
	defer b.polls.Wait()

	b.resumeJobs(ctx)
	in := b.st.in
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	lingering := false
	for {
		b.mu.Lock()
		idle := in == nil && len(b.pending) == 0 && len(b.requeued) == 0 && b.active == 0 && b.contN == 0
		b.mu.Unlock()
		if idle {
			return
		}
		select {
		case rec, ok := <-in:
			if !ok {
				in = nil
				b.flush(ctx, true)
				continue
			}
			if r.draining() || ctx.Err() != nil {
				continue
			}
			b.add(ctx, rec)
			if b.full() {
				b.flush(ctx, false)
			}
			if len(b.pending) > 0 && !lingering {
				linger.Reset(r.opts.Batches.Linger)
				lingering = true
			}
		case <-linger.C:
			lingering = false
			b.flush(ctx, true)
		case <-b.wake:
			b.mu.Lock()
			back := b.requeued
			b.requeued = nil
			b.mu.Unlock()
			for _, it := range back {
				b.enqueue(ctx, it)
			}
			if len(back) > 0 {
				b.flush(ctx, in == nil)
				if len(b.pending) > 0 && !lingering {
					linger.Reset(r.opts.Batches.Linger)
					lingering = true
				}
			}
		case <-r.drainCh:
			b.abandonPending()
			if in != nil {
				for range in {
				}
			}
			return
		case <-ctx.Done():
			b.abandonPending()
			if in != nil {
				for range in {
				}
			}
			return
		}
	}
}

// abandonPending leaves the items not yet in a job for the next run.
func (b *batchStage) abandonPending() {
	for range b.pending {
		b.r.stats.inFlight.Add(-1)
	}
	b.pending, b.pendTok, b.pendB = nil, 0, 0
	b.mu.Lock()
	for range b.requeued {
		b.r.stats.inFlight.Add(-1)
	}
	b.requeued = nil
	b.mu.Unlock()
}

// add prepares one record and puts it in the next job, or attaches it to
// the resumed job that already holds it.
func (b *batchStage) add(ctx context.Context, rec *Record) {
	r := b.r
	it := &itemRun{}
	e, more := r.prepare(ctx, b.st, rec, it)
	if !more {
		ok := r.finish(ctx, b.st, it, e)
		if it.started {
			r.stats.inFlight.Add(-1)
		}
		if ok && b.st.fromSource {
			r.stats.done.Add(1)
		}
		return
	}
	if b.blocked[rec.ID] {
		r.stats.inFlight.Add(-1)
		return // left for the next run: it may be in a live job
	}
	b.mu.Lock()
	ji := b.waiting[rec.ID]
	delete(b.waiting, rec.ID)
	b.mu.Unlock()
	if ji != nil {
		// The item's request in a job of an earlier run: wait for its
		// answer, unless the request has changed since.
		if req, err := r.buildRequest(ctx, it, b.step.Models[0]); err == nil && RequestKey(req) == ji.reqKey {
			b.mu.Lock()
			if !ji.taken {
				ji.it, ji.req = it, req
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
		}
	}
	b.enqueue(ctx, it)
}

// enqueue builds the item's request for its current rung and adds it to
// the pending job; an item that cannot go into a job goes online.
func (b *batchStage) enqueue(ctx context.Context, it *itemRun) {
	r := b.r
	model := b.step.Models[it.rung]
	if it.rung != 0 && !strings.HasPrefix(model.ID, "gemini-") {
		b.online(ctx, it)
		return
	}
	req, err := r.buildRequest(ctx, it, model)
	if err != nil {
		b.online(ctx, it) // the online path meets the same error and reports it
		return
	}
	key := RequestKey(req)
	if r.opts.Store != nil && !r.opts.NoCache && !it.fresh && !it.wasAnswered(key) {
		if resp, err := r.opts.Store.CachedResponse(ctx, key); err == nil && resp != nil {
			b.online(ctx, it) // answered from the store for free
			return
		}
	}
	tokens := (len(req.System) + len(req.Prompt) + 3) / 4
	ji := &jobItem{key: it.rec.ID, item: it.rec.ID, reqKey: key, it: it, req: req, tokens: tokens,
		bytes: len(req.System) + len(req.Prompt) + 512, worst: r.batchWorst(model, tokens, req.MaxOutputTokens)}
	if lim := b.tokenLimit(model); lim > 0 && tokens > lim {
		b.online(ctx, it) // no job can ever take it
		return
	}
	b.pending = append(b.pending, ji)
	b.pendTok += tokens
	b.pendB += ji.bytes
}

func (b *batchStage) tokenLimit(m *interp.Model) int {
	lim := 0
	if f := b.r.opts.Batches.Tokens; f != nil {
		lim = f(m)
	}
	b.br.mu.Lock()
	l := b.br.learned[m.ID]
	b.br.mu.Unlock()
	if l > 0 && (lim == 0 || l < lim) {
		lim = l
	}
	return lim
}

func (b *batchStage) maxItems() int {
	n := b.r.opts.Batches.MaxItems
	if b.step.BatchSize > 0 && b.step.BatchSize < n {
		n = b.step.BatchSize
	}
	return n
}

// full reports whether the pending items fill a job.
func (b *batchStage) full() bool {
	if len(b.pending) >= b.maxItems() || b.pendB >= b.r.opts.Batches.MaxBytes {
		return true
	}
	if len(b.pending) == 0 {
		return false
	}
	lim := b.tokenLimit(b.step.Models[0])
	return lim > 0 && b.pendTok >= lim
}

// cut is how many pending items (of the same model as the first) fit in
// one job.
func (b *batchStage) cut() int {
	model := b.pending[0].req.Model
	lim := b.tokenLimit(b.step.Models[0])
	n, tok, by := 0, 0, 0
	for _, ji := range b.pending {
		if ji.req.Model != model || n >= b.maxItems() {
			break
		}
		if n > 0 && (lim > 0 && tok+ji.tokens > lim || by+ji.bytes > b.r.opts.Batches.MaxBytes) {
			break
		}
		n, tok, by = n+1, tok+ji.tokens, by+ji.bytes
	}
	return max(n, 1)
}

// flush sends the pending items as jobs: all of them, or only while they
// fill whole jobs.
func (b *batchStage) flush(ctx context.Context, all bool) {
	for len(b.pending) > 0 && (all || b.full()) {
		n := b.cut()
		items := b.pending[:n]
		sent := b.submit(ctx, items)
		for _, ji := range b.pending[:sent] {
			b.pendTok -= ji.tokens
			b.pendB -= ji.bytes
		}
		b.pending = b.pending[sent:]
		if sent == 0 {
			return
		}
	}
}

// wait sleeps d unless the run drains or ends first.
func (b *batchStage) wait(ctx context.Context, d time.Duration) bool {
	t := b.r.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-b.r.drainCh:
		return false
	case <-ctx.Done():
		return false
	}
}

// submit makes one job of items (or of the part of them the budget allows)
// and returns how many items it took. Items it cannot send go online.
func (b *batchStage) submit(ctx context.Context, items []*jobItem) int {
	r, br := b.r, b.br
	model := b.step.Models[items[0].it.rung]
	worsts := make([]Money, len(items))
	for i, ji := range items {
		worsts[i] = ji.worst
	}
	n, worst := r.bud.reserveMany(ctx, worsts)
	if n == 0 {
		r.Drain() // the budget is spent: the items resume on the next run
		return 0
	}
	items = items[:n]
	tokens := 0
	for _, ji := range items {
		tokens += ji.tokens
	}
	// Wait for room under the model's enqueued-token limit and the
	// service's cap on live jobs.
	lim := b.tokenLimit(model)
	for {
		br.mu.Lock()
		fits := br.liveN < maxLiveJobs && (lim <= 0 || br.enq[model.ID]+tokens <= lim)
		if fits {
			br.enq[model.ID] += tokens
			br.liveN++
		}
		room := br.room
		br.mu.Unlock()
		if fits {
			break
		}
		select {
		case <-room:
		case <-r.drainCh:
			r.bud.settle(worst, 0)
			return 0
		case <-ctx.Done():
			r.bud.settle(worst, 0)
			return 0
		}
	}
	seq := br.seq.Add(1)
	j := &jobRun{stage: b, model: model, items: make(map[string]*jobItem, len(items)), order: items, tokens: tokens, worst: worst, reserved: true}
	j.rec = &BatchJob{RunID: r.runID, Step: b.step.Name, Model: model.ID, Tokens: tokens, Created: r.clock.Now(),
		DisplayName: displayName(r.opts.Batches.Name, r.runID, seq, r.clock.Now())}
	spec := &BatchJobSpec{Model: model.ID, DisplayName: j.rec.DisplayName, Keys: make([]string, len(items)), Requests: make([]*Request, len(items))}
	for i, ji := range items {
		j.items[ji.key] = ji
		j.rec.Items = append(j.rec.Items, BatchItem{Item: ji.item, Key: ji.key, RequestKey: ji.reqKey})
		spec.Keys[i], spec.Requests[i] = ji.key, ji.req
		ji.it.jobTries++
	}
	if br.bs != nil {
		if err := br.bs.AddBatchJob(context.WithoutCancel(ctx), j.rec); err != nil {
			r.fail(err)
			br.ended(model.ID, tokens)
			r.bud.settle(worst, 0)
			return 0
		}
	}
	name, err := b.create(ctx, spec, tokens)
	if errors.Is(err, errTooBig) {
		// Refused for size with nothing else running: learn the limit
		// and send the first half; the rest stays pending.
		if br.bs != nil {
			_ = br.bs.SetBatchJobState(context.WithoutCancel(ctx), j.rec.ID, BatchAbandoned, 0, 0)
		}
		br.ended(model.ID, tokens)
		r.bud.settle(worst, 0)
		for _, ji := range items {
			ji.it.jobTries--
		}
		br.learn(model.ID, tokens/2)
		return b.submit(ctx, items[:len(items)/2])
	}
	if err != nil {
		// Never created: the items go online, the record ends.
		if br.bs != nil {
			_ = br.bs.SetBatchJobState(context.WithoutCancel(ctx), j.rec.ID, BatchAbandoned, 0, 0)
		}
		br.ended(model.ID, tokens)
		r.bud.settle(worst, 0)
		if ctx.Err() != nil || r.draining() {
			for range items {
				r.stats.inFlight.Add(-1)
			}
			return n
		}
		r.emit(Event{Kind: EventBatchJobEnded, Step: b.step.Name, Model: model.ID, Message: "not created: " + err.Error()})
		for _, ji := range items {
			b.online(ctx, ji.it)
		}
		return n
	}
	if crashAfterCreate != nil && crashAfterCreate() {
		// A test's crash: the name is never recorded, nothing goes on.
		for range items {
			r.stats.inFlight.Add(-1)
		}
		r.Drain()
		return n
	}
	j.rec.Name = name
	if br.bs != nil {
		if err := br.bs.SetBatchJobName(context.WithoutCancel(ctx), j.rec.ID, name); err != nil {
			r.fail(err)
		}
	}
	j.status = BatchStatus{Name: name, State: BatchPending}
	r.emit(Event{Kind: EventBatchJobCreated, Step: b.step.Name, Model: model.ID, Message: fmt.Sprintf("%s (%s): %d items", name, j.rec.DisplayName, len(items))})
	b.start(ctx, j)
	return n
}

// errTooBig is a create refused (429) while no other job of the model
// runs: the job alone exceeds the service's enqueued-token limit.
var errTooBig = errors.New("batch job over the service's enqueued-token limit")

// crashAfterCreate, when set by a test, runs between a job's create call
// and the commit of its name; true plays a crash there.
var crashAfterCreate func() bool

// displayName derives a job's display name from the run and a sequence
// number, with the time so that another store's run 1 cannot collide.
func displayName(name string, runID, seq int64, now time.Time) string {
	if name == "" {
		name = "run"
	}
	return fmt.Sprintf("llmpipe-%s-r%d-%d-%x", name, runID, seq, now.UnixNano()/1e6)
}

// create calls the service, waiting for room on a 429 and retrying
// transient failures a few times.
func (b *batchStage) create(ctx context.Context, spec *BatchJobSpec, tokens int) (string, error) {
	r := b.r
	delay := r.opts.Batches.Poll
	transient := 0
	for {
		name, err := b.br.bp.CreateBatch(ctx, spec)
		if err == nil {
			return name, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		switch ClassOf(err) {
		case ClassRateLimit:
			// No room on the service: wait for jobs to end, unless none
			// of the model's is running: then the job alone is over the
			// service's limit, and a smaller one must be tried.
			b.br.mu.Lock()
			alone := b.br.enq[spec.Model] <= tokens
			b.br.mu.Unlock()
			if alone && len(spec.Requests) > 1 {
				return "", errTooBig
			}
			r.emit(Event{Kind: EventCooldown, Step: b.step.Name, Model: spec.Model, Delay: delay, Message: "batch create: " + err.Error()})
		case ClassTransient:
			transient++
			if transient >= maxCreateTries {
				return "", err
			}
		default:
			return "", err
		}
		if !b.wait(ctx, delay) {
			return "", errAbandoned
		}
		delay = min(delay*3/2, r.opts.Batches.MaxPoll)
	}
}

// start registers a created job and polls it until it ends.
func (b *batchStage) start(ctx context.Context, j *jobRun) {
	b.br.mu.Lock()
	b.br.jobs = append(b.br.jobs, j)
	b.br.mu.Unlock()
	b.mu.Lock()
	b.active++
	b.mu.Unlock()
	b.polls.Add(1)
	go func() {
		defer b.polls.Done()
		defer func() {
			b.mu.Lock()
			b.active--
			b.mu.Unlock()
			b.signal()
		}()
		b.poll(ctx, j)
	}()
}

// resumeJobs picks up the step's jobs that an earlier run left live:
// adopts those whose name was lost, and polls them all. Their items wait
// for their results instead of going into a new job.
func (b *batchStage) resumeJobs(ctx context.Context) {
	r, br := b.r, b.br
	for _, rec := range br.live[b.step.Name] {
		model := b.step.Models[0]
		for _, m := range b.step.Models {
			if m.ID == rec.Model {
				model = m
			}
		}
		if rec.Name == "" {
			name, ok, err := br.adoptName(ctx, rec.DisplayName)
			if err != nil {
				// Unknown whether it exists: leave it live, its items wait
				// for the next run rather than risk a second job.
				r.emit(Event{Kind: EventBatchJobEnded, Step: b.step.Name, Model: rec.Model, Message: "cannot list jobs to adopt " + rec.DisplayName + ": " + err.Error()})
				for _, it := range rec.Items {
					b.blocked[it.Item] = true
				}
				continue
			}
			if !ok {
				// The create call never happened: the items are free.
				if br.bs != nil {
					_ = br.bs.SetBatchJobState(context.WithoutCancel(ctx), rec.ID, BatchAbandoned, 0, 0)
				}
				br.ended(rec.Model, rec.Tokens)
				continue
			}
			rec.Name = name
			if br.bs != nil {
				if err := br.bs.SetBatchJobName(context.WithoutCancel(ctx), rec.ID, name); err != nil {
					r.fail(err)
					return
				}
			}
			r.emit(Event{Kind: EventBatchJobCreated, Step: b.step.Name, Model: rec.Model, Message: "adopted " + name + " (" + rec.DisplayName + ")"})
		}
		j := &jobRun{stage: b, rec: rec, model: model, items: make(map[string]*jobItem, len(rec.Items)), tokens: rec.Tokens}
		j.status = BatchStatus{Name: rec.Name, State: rec.State}
		for _, it := range rec.Items {
			ji := &jobItem{key: it.Key, item: it.Item, reqKey: it.RequestKey}
			j.items[it.Key] = ji
			j.order = append(j.order, ji)
			b.waiting[it.Item] = ji
		}
		b.start(ctx, j)
	}
}

// poll follows a job until it ends, then delivers or hands back its items.
// When the run drains it returns and leaves the job running.
func (b *batchStage) poll(ctx context.Context, j *jobRun) {
	r := b.r
	opts := &r.opts.Batches
	delay := opts.Poll
	for {
		if !b.wait(ctx, delay) {
			return
		}
		delay = min(delay*3/2, opts.MaxPoll)
		st, err := b.br.bp.BatchStatus(ctx, j.rec.Name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if pe := asError(err); pe != nil && pe.Status == 404 {
				b.end(ctx, j, BatchGone, "the service no longer knows "+j.rec.Name)
				return
			}
			continue // transient: poll again later
		}
		j.mu.Lock()
		changed := j.status.State != st.State
		j.status = *st
		j.mu.Unlock()
		if changed && !st.State.Done() && b.br.bs != nil {
			// For status beside the run: pending → running.
			if err := b.br.bs.SetBatchJobState(context.WithoutCancel(ctx), j.rec.ID, st.State, st.Succeeded, st.Failed); err != nil {
				r.fail(err)
			}
		}
		if !st.State.Done() {
			if opts.Deadline > 0 && r.clock.Now().Sub(j.rec.Created) > opts.Deadline {
				j.byUs = true
				if err := b.br.bp.CancelBatch(ctx, j.rec.Name); err != nil && ctx.Err() != nil {
					return
				}
				j.setState(BatchCancelled)
				b.end(ctx, j, BatchCancelled, fmt.Sprintf("%s passed the batch deadline (%s)", j.rec.Name, opts.Deadline))
				return
			}
			continue
		}
		if st.State == BatchSucceeded {
			b.collect(ctx, j)
			return
		}
		why := fmt.Sprintf("%s ended %s", j.rec.Name, st.State)
		if st.Error != "" {
			why += ": " + st.Error
		}
		b.end(ctx, j, st.State, why)
		return
	}
}

// collect reads a succeeded job's results, stores each reply in the
// response cache, ends the job in the store, deletes its files, and hands
// every item its answer (or back, when the job had none for it).
func (b *batchStage) collect(ctx context.Context, j *jobRun) {
	r := b.r
	var (
		results []BatchResult
		err     error
	)
	keys := make([]string, len(j.order))
	for i, ji := range j.order {
		keys[i] = ji.key
	}
	for try := 0; try < maxCreateTries; try++ {
		if results, err = b.br.bp.BatchResults(ctx, j.rec.Name, keys); err == nil {
			break
		}
		if ctx.Err() != nil || !b.wait(ctx, r.opts.Batches.Poll) {
			return
		}
	}
	if err != nil {
		b.end(ctx, j, BatchFailed, "reading the results of "+j.rec.Name+": "+err.Error())
		return
	}
	answers := make(map[*jobItem]*batchAnswer, len(results))
	var cost Money
	done, failed := 0, 0
	for _, res := range results {
		ji := j.items[res.Key]
		if ji == nil && res.Key == "" && res.Index >= 0 && res.Index < len(j.order) {
			ji = j.order[res.Index]
		}
		if ji == nil || answers[ji] != nil {
			continue
		}
		a := &batchAnswer{job: j.rec.Name, key: ji.reqKey, resp: res.Resp, err: res.Err}
		answers[ji] = a
		if res.Resp != nil {
			done++
			cost += r.batchCost(j.model.ID, res.Resp.Usage)
			if r.opts.Store != nil {
				if err := r.opts.Store.PutResponse(context.WithoutCancel(ctx), ji.reqKey, res.Resp); err != nil {
					r.fail(err)
				}
			}
		} else {
			failed++
		}
	}
	j.mu.Lock()
	j.status.State, j.status.Succeeded, j.status.Failed = BatchSucceeded, done, failed
	j.mu.Unlock()
	// Ending the job is queued after the replies, so once it is committed
	// they are too; only then are the job's files deleted.
	if bs := b.br.bs; bs != nil {
		if err := bs.SetBatchJobState(context.WithoutCancel(ctx), j.rec.ID, BatchSucceeded, done, failed); err != nil {
			r.fail(err)
		} else if err := b.br.bp.CleanupBatch(context.WithoutCancel(ctx), j.rec.Name); err != nil {
			r.emit(Event{Kind: EventBatchJobEnded, Step: b.step.Name, Model: j.rec.Model, Message: "deleting the files of " + j.rec.Name + ": " + err.Error()})
		}
	}
	if j.reserved {
		r.bud.settle(j.worst, cost)
	} else {
		r.bud.add(cost) // a job of an earlier run: nothing was reserved here
	}
	b.br.ended(j.rec.Model, j.tokens)
	r.emit(Event{Kind: EventBatchJobEnded, Step: b.step.Name, Model: j.rec.Model, Cost: cost,
		Message: fmt.Sprintf("%s succeeded: %d answered, %d failed", j.rec.Name, done, failed)})

	var back []*itemRun
	b.mu.Lock()
	for _, ji := range j.order {
		ji.taken = true
		if ji.it == nil {
			continue // not reached in this run: its reply waits in the store
		}
		if a := answers[ji]; a != nil {
			a.req = ji.req
			ji.it.batch = a
			continue
		}
		back = append(back, ji.it)
	}
	b.mu.Unlock()
	for _, ji := range j.order {
		if ji.it != nil && ji.it.batch != nil {
			b.continueItem(ctx, ji.it)
		}
	}
	b.handBack(ctx, back)
}

// end closes a job that brought no results and hands its items back.
func (b *batchStage) end(ctx context.Context, j *jobRun, state BatchState, why string) {
	r := b.r
	j.setState(state)
	if bs := b.br.bs; bs != nil {
		if err := bs.SetBatchJobState(context.WithoutCancel(ctx), j.rec.ID, state, 0, 0); err != nil {
			r.fail(err)
		}
	}
	if j.reserved {
		r.bud.settle(j.worst, 0)
	}
	b.br.ended(j.rec.Model, j.tokens)
	r.emit(Event{Kind: EventBatchJobEnded, Step: b.step.Name, Model: j.rec.Model, Message: why})
	var back []*itemRun
	b.mu.Lock()
	for _, ji := range j.order {
		ji.taken = true
		if ji.it != nil {
			back = append(back, ji.it)
		}
	}
	b.mu.Unlock()
	if state == BatchCancelled && !j.byUs {
		// Cancelled by llmpipe cancel: the items wait for the next run.
		for range back {
			r.stats.inFlight.Add(-1)
		}
		return
	}
	b.handBack(ctx, back)
}

// handBack sends items whose job gave them no answer online, or into a new
// job when the step says batch_retries = "batch".
func (b *batchStage) handBack(ctx context.Context, items []*itemRun) {
	for _, it := range items {
		if b.step.BatchRetries == "batch" && it.jobTries < maxJobTries {
			b.park(it)
			continue
		}
		b.online(ctx, it)
	}
}

// park returns an item to the collector for a new job.
func (b *batchStage) park(it *itemRun) {
	b.mu.Lock()
	b.requeued = append(b.requeued, it)
	b.mu.Unlock()
	b.signal()
}

// online continues an item without a batch answer: its next attempt is an
// online call (or a response-cache hit).
func (b *batchStage) online(ctx context.Context, it *itemRun) {
	it.batch = nil
	it.noBatch = true
	b.continueItem(ctx, it)
}

// continueItem runs the item's attempts loop from where it stands, as
// process would, on a bounded pool of goroutines.
func (b *batchStage) continueItem(ctx context.Context, it *itemRun) {
	r := b.r
	b.sem <- struct{}{}
	b.conts.Add(1)
	b.mu.Lock()
	b.contN++
	b.mu.Unlock()
	go func() {
		defer b.conts.Done()
		defer func() {
			b.mu.Lock()
			b.contN--
			b.mu.Unlock()
			b.signal()
		}()
		e := r.attempts(ctx, it)
		if it.parked {
			<-b.sem
			// Its next attempt goes into a new job: still in flight.
			it.parked = false
			it.noBatch = false
			b.park(it)
			return
		}
		ok := r.finish(ctx, b.st, it, e)
		<-b.sem
		r.stats.inFlight.Add(-1)
		if ok && b.st.fromSource {
			r.stats.done.Add(1)
		}
	}()
}

// followUpInBatch reports whether an item's next attempt should go into a
// new job rather than online.
func (r *Runner) followUpInBatch(it *itemRun) bool {
	if it.noBatch || it.step.BatchRetries != "batch" || it.jobTries == 0 || it.jobTries >= maxJobTries {
		return false
	}
	if r.batch == nil || r.batch.stages[it.step.Name] == nil {
		return false
	}
	return strings.HasPrefix(it.step.Models[it.rung].ID, "gemini-")
}

// useBatchAnswer is callOnce for an attempt a job answered: the reply (or
// per-request error) is accounted and journaled like an online call's, at
// the batch price.
func (r *Runner) useBatchAnswer(ctx context.Context, it *itemRun, model *interp.Model, a *batchAnswer) (*Response, bool, error) {
	it.batch = nil
	if a.req == nil {
		a.req = r.baseRequest(it, model)
	}
	var cost Money
	if a.resp != nil {
		cost = r.batchCost(model.ID, a.resp.Usage)
		r.stats.addUsage(a.resp.Usage, cost)
		r.stats.batchAnswered.Add(1)
		it.rec.Usage = it.rec.Usage.Add(a.resp.Usage)
		it.rec.Cost += cost
		it.markAnswered(a.key)
	}
	it.job = a.job
	r.journal(ctx, it, model, a.req, a.key, a.resp, a.err, cost, 0, false)
	it.job = ""
	return a.resp, false, a.err
}

// batchCost prices a batch call.
func (r *Runner) batchCost(modelID string, u Usage) Money {
	if f := r.opts.Batches.Cost; f != nil {
		return f(modelID, u)
	}
	return r.cost(modelID, u) / 2
}

// batchWorst is a batch request's reservation: its worst cost at batch
// prices.
func (r *Runner) batchWorst(m *interp.Model, inTokens, maxOut int) Money {
	if f := r.opts.Batches.Price; f != nil {
		p := f(m)
		return Money(math.Ceil((float64(inTokens)*p.InputPerM + float64(maxOut)*p.OutputPerM) * 1e3))
	}
	return r.worstCost(m, inTokens, maxOut) / 2
}

// liveBatchJobs counts the run's jobs still running on the service.
func (r *Runner) liveBatchJobs() int {
	if r.batch == nil {
		return 0
	}
	n := 0
	for _, s := range r.batch.stats() {
		if !s.State.Done() {
			n++
		}
	}
	return n
}
