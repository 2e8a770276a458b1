package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/llmpipe/llmpipe/internal/box"
	"github.com/llmpipe/llmpipe/interp"
)

// queueDepth is how many records wait between two stages. Memory is bounded
// by workers + queues, never by the number of items.
const queueDepth = 256

// stage runs one step: its workers take records from in, and successful
// records go on to the stages that read from this step.
type stage struct {
	r          *Runner
	name       string
	in         chan *Record
	next       []*stage
	fromSource bool        // progress counts items finished here
	batch      *batchStage // a batched step: one collector stands for the workers

	// calling, with a store, bounds the workers between taking an item
	// and its commit (the calls phase) to the run's worker count, while
	// the stage keeps as many workers again for items waiting on their
	// commit. Without it a worker blocked in Store.Commit (a group
	// commit lingers for a fuller transaction) could not take the next
	// item, and the commit's latency, not the calls', capped the rate:
	// S1 with the store on was concurrency-bound at about 9,000 items/s
	// with a core idle. Nil without a store, where commits do not wait.
	calling *semaphore

	mu      sync.Mutex
	running int
	exiting bool
}

// workersFor is how many workers the stage keeps for a run of n.
func (st *stage) workersFor(n int) int {
	if st.calling != nil {
		return 2 * n
	}
	return n
}

// openSources opens every source a step reads, before anything else of the
// run starts: a source that cannot be read must stop the run while every
// output is still as it was. On error, the ones opened are closed.
func (r *Runner) openSources(ctx context.Context, p *plan) (map[*interp.Source]Source, error) {
	read := map[*interp.Source]bool{}
	for _, s := range p.prog.Steps {
		if s.FromStep == nil && s.FromSource != nil {
			read[s.FromSource] = true
		}
	}
	opened := make(map[*interp.Source]Source, len(read))
	for _, src := range p.prog.Sources {
		if !read[src] {
			continue
		}
		s, err := r.opts.OpenSource(ctx, src)
		if err != nil {
			closeSources(opened)
			return nil, err // names the source (see OpenSource)
		}
		opened[src] = s
	}
	return opened, nil
}

func closeSources(srcs map[*interp.Source]Source) {
	for _, s := range srcs {
		s.Close()
	}
}

// execute wires sources → stages → sinks and waits for all of them. It
// closes every source in srcs.
func (r *Runner) execute(parent context.Context, p *plan, srcs map[*interp.Source]Source) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	stages := make(map[string]*stage, len(p.prog.Steps))
	for _, s := range p.prog.Steps {
		st := &stage{r: r, name: s.Name, in: make(chan *Record, queueDepth)}
		if r.batch != nil && r.batched(p, s) {
			st.batch = r.batch.newStage(st, s, r.Workers())
		} else if r.opts.Store != nil {
			st.calling = newSemaphore(r.Workers())
		}
		stages[s.Name] = st
	}
	bySource := map[*interp.Source][]*stage{}
	for _, s := range p.prog.Steps {
		st := stages[s.Name]
		if s.FromStep != nil {
			up := stages[s.FromStep.Name]
			up.next = append(up.next, st)
		} else {
			st.fromSource = true
			bySource[s.FromSource] = append(bySource[s.FromSource], st)
		}
	}
	// Under the lock, so that a concurrent SetWorkers either sees no stages
	// (and the workers started here read the new count) or all of them.
	// An ordered sink writes what an item's end releases, on the
	// goroutine that ended it.
	for _, o := range r.sinks.orders {
		o.flush = func() {
			for _, ls := range o.sinks {
				ls.mu.Lock()
				err := ls.writeHeld(r.sinkCtx, false)
				ls.mu.Unlock()
				if err != nil {
					r.fail(fmt.Errorf("writing sink %q: %w", ls.name, err))
				}
			}
		}
	}
	r.stagesMu.Lock()
	r.stages, r.workerCtx, r.sinkCtx = stages, ctx, context.WithoutCancel(ctx)
	n := r.Workers()
	for _, st := range stages {
		st.grow(ctx, n)
	}
	r.stagesMu.Unlock()

	var g errgroup.Group
	for _, src := range p.prog.Sources {
		downs := bySource[src]
		s := srcs[src]
		if len(downs) == 0 || s == nil {
			continue
		}
		g.Go(func() error {
			defer func() {
				for _, d := range downs {
					close(d.in)
				}
			}()
			if err := r.readSource(ctx, src, s, downs); err != nil {
				cancel(err)
				return err
			}
			return nil
		})
	}
	srcErr := g.Wait()
	r.workerGroup.Wait()
	if srcErr != nil {
		return srcErr
	}
	r.fatalMu.Lock()
	fatal := r.fatalErr
	r.fatalMu.Unlock()
	if fatal != nil {
		return fatal
	}
	if err := context.Cause(ctx); err != nil && parent.Err() == nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// fail aborts the run with err (a store or sink that cannot be written).
func (r *Runner) fail(err error) {
	// The run context's cancel is owned by execute; Drain plus a recorded
	// error is enough here, since workers stop taking items when draining.
	r.fatalMu.Lock()
	if r.fatalErr == nil {
		r.fatalErr = err
	}
	r.fatalMu.Unlock()
	r.Drain()
}

// grow starts workers until the stage has n, unless it is already winding down.
func (st *stage) grow(ctx context.Context, n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.exiting {
		return
	}
	if st.batch != nil {
		if st.running == 0 {
			st.running = 1
			st.r.workerGroup.Add(1)
			go st.batch.run(ctx)
		}
		return
	}
	for st.running < st.workersFor(n) {
		st.running++
		st.r.workerGroup.Add(1)
		go st.work(ctx)
	}
}

func (st *stage) work(ctx context.Context) {
	defer st.r.workerGroup.Done()
	defer st.exit()
	// This worker's boxer: replies' strings are boxed without an
	// allocation each (made once: a method value costs an allocation).
	boxer := new(box.Strings).String
	for {
		if st.calling != nil && st.calling.acquire(ctx) != nil {
			st.discard()
			return
		}
		rec, ok := st.receive(ctx)
		if !ok {
			// Keep emptying the queue without starting anything, so the
			// producer never blocks on a full channel (closed: nothing).
			st.leaveCalling()
			st.discard()
			return
		}
		st.take(ctx, rec, boxer)
	}
}

// receive waits for the next record. It reports false when the queue is
// closed, or when the run drains or is cancelled.
func (st *stage) receive(ctx context.Context) (*Record, bool) {
	// A record already queued is taken without the three-way select:
	// selectgo locks every channel it waits on, and drainCh and
	// ctx.Done() are shared by all the workers. What the select would
	// decide is checked just after either way (take).
	select {
	case rec, ok := <-st.in:
		return rec, ok
	default:
	}
	select {
	case rec, ok := <-st.in:
		return rec, ok
	case <-st.r.drainCh:
	case <-ctx.Done():
	}
	return nil, false
}

// put queues out for the stage unless the run drains or is cancelled
// first (false: not queued). Room in the queue costs no three-way select
// (see receive).
func (st *stage) put(ctx context.Context, out *Record) bool {
	select {
	case st.in <- out:
		return true
	default:
	}
	select {
	case st.in <- out:
		return true
	case <-st.r.drainCh:
	case <-ctx.Done():
	}
	return false
}

// discard empties the queue without starting anything: the items resume on
// the next run.
func (st *stage) discard() {
	for rec := range st.in {
		rec.trk.release()
	}
}

// leaveCalling gives back the worker's place among the calling ones.
func (st *stage) leaveCalling() {
	if st.calling != nil {
		st.calling.release()
	}
}

// take runs one record the worker took from the queue, unless the run is
// draining or cancelled.
func (st *stage) take(ctx context.Context, rec *Record, boxer func(string) any) {
	if st.r.draining() || ctx.Err() != nil {
		st.leaveCalling()
		rec.trk.release()
		return // not started: it resumes on the next run
	}
	if st.r.process(ctx, st, rec, boxer) && st.fromSource {
		st.r.stats.done.Add(1)
	}
	rec.trk.release()
}

// exit is called by each worker as it stops; the last one closes the
// inputs of the stages after this one.
func (st *stage) exit() {
	st.mu.Lock()
	st.exiting = true
	st.running--
	last := st.running == 0
	st.mu.Unlock()
	if last {
		for _, d := range st.next {
			d.closeInput()
		}
	}
}

// closeInput closes the stage's input once its single producer is done.
func (st *stage) closeInput() { close(st.in) }

// send hands rec to the next stages; it gives up when the run drains.
func (st *stage) send(ctx context.Context, rec *Record) {
	for i, d := range st.next {
		out := rec
		if i < len(st.next)-1 {
			out = rec.clone()
		}
		out.trk.add(1) // before the next stage can release it
		if !d.put(ctx, out) {
			out.trk.release()
			return
		}
	}
}

func (rec *Record) clone() *Record {
	c := *rec
	c.Outputs = make(map[string]any, len(rec.Outputs))
	for k, v := range rec.Outputs {
		c.Outputs[k] = v
	}
	c.Order = append([]string(nil), rec.Order...)
	return &c
}

// readSource streams one source into the stages that read it, applying the
// source's id, where and limit.
func (r *Runner) readSource(ctx context.Context, src *interp.Source, s Source, downs []*stage) error {
	defer s.Close()
	if c, ok := s.(Counter); ok {
		// Counting a large file takes a while; progress shows "?" until then.
		var counting sync.WaitGroup
		defer counting.Wait()
		counting.Go(func() {
			if n, err := c.Count(ctx); err == nil {
				if lim := r.sourceLimit(src); lim > 0 && n > lim {
					n = lim
				}
				r.stats.addTotal(int64(n * len(downs)))
			}
		})
	}
	limit := r.sourceLimit(src)
	admitted := 0
	ord := r.sinks.orders[src] // nil unless a sink wants source order
	env := map[string]any{}    // where and id see only item; reused, expr keeps no reference
	for limit <= 0 || admitted < limit {
		if r.draining() || ctx.Err() != nil {
			return nil
		}
		if ord != nil && !ord.wait(ctx, r.drainCh) {
			return nil // stopping while the window was full
		}
		it, err := s.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				// Cancelled between the check above and the read (a source
				// may answer a done ctx with its error): a stop, not a
				// source that failed.
				return nil
			}
			return err // names the source (see Source.Next)
		}
		rec := admit(src, it, env)
		if rec == nil {
			continue // the source's where dropped it
		}
		admitted++
		r.stats.read.Add(1)
		if it.Repaired {
			r.stats.repaired.Add(1)
		}
		if rec.Malformed {
			r.stats.malformed.Add(1)
			if ord != nil {
				rec.trk = ord.admit(1)
			}
			for _, d := range downs {
				r.failSourceRecord(ctx, d, rec, it)
				r.stats.done.Add(1)
			}
			rec.trk.release()
			continue
		}
		if ord != nil {
			rec.trk = ord.admit(len(downs))
		}
		for i, d := range downs {
			out := rec
			if i < len(downs)-1 {
				out = rec.clone()
			}
			if !d.put(ctx, out) {
				rec.trk.add(-int32(len(downs) - i)) // not sent: done with
				return nil
			}
		}
	}
	return nil
}

// admit makes the record a source item becomes, applying the source's
// where and id with env (reused between calls; expr keeps no reference).
// It returns nil for an item the where drops. An item that is malformed,
// or whose where or id cannot be evaluated, comes back with Malformed set
// and no id: it is not an item (its position used to be its id, which a
// real item may have) and is never stored. Runs and Census both admit
// items through it, so they agree on what the items are.
func admit(src *interp.Source, it *Item, env map[string]any) *Record {
	rec := &Record{Item: it.Data, Outputs: map[string]any{}}
	for k, v := range it.Outputs {
		rec.Outputs[k] = v
	}
	idSet := false // the index is formatted only when no id expression gives one
	if it.Err == nil {
		env[interp.VarItem] = it.Data
		if src.Where != nil {
			keep, werr := src.Where.EvalBool(env)
			if werr != nil {
				it.Err = fmt.Errorf("where: %w", werr)
			} else if !keep {
				return nil
			}
		}
		if it.Err == nil && src.ID != nil {
			v, ierr := src.ID.Eval(env)
			if ierr != nil || v == nil {
				if ierr == nil {
					ierr = errors.New("id is nil")
				}
				it.Err = fmt.Errorf("id: %w", ierr)
			} else if s, ok := v.(string); ok {
				rec.ID, rec.idv, idSet = s, v, true
			} else {
				rec.ID, idSet = fmt.Sprint(v), true
			}
		}
	}
	if it.Err != nil {
		rec.ID, rec.Malformed, rec.SourceLine = "", true, it.Line
		if rec.SourceLine == 0 {
			rec.SourceLine = it.Index
		}
		return rec
	}
	if !idSet {
		rec.ID = strconv.Itoa(it.Index)
	}
	return rec
}

func (r *Runner) sourceLimit(src *interp.Source) int {
	lim := src.Limit
	if r.opts.Limit > 0 && (lim == 0 || r.opts.Limit < lim) {
		lim = r.opts.Limit
	}
	return lim
}

// failSourceRecord turns a malformed source record into a failed record of
// the step that would have read it, so it is reported and never dropped. It
// is not stored: it has no id to store it under, and the next run reads
// the row again.
func (r *Runner) failSourceRecord(ctx context.Context, st *stage, rec *Record, it *Item) {
	if rec.Item == nil {
		rec.Item = map[string]any{}
	}
	rec.Step = st.name
	rec.Failed = true
	rec.Failure = &Failure{Class: ClassFatal, Message: it.Err.Error(), Line: it.Line}
	r.stats.failed.Add(1)
	r.stats.bump(r.stats.byClass, ClassFatal.String())
	r.emit(Event{Kind: EventItemFailed, Step: st.name, Class: ClassFatal.String(), Message: "malformed source row: " + it.Err.Error()})
	r.deliver(ctx, rec)
}
