package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// op is one write for the writer goroutine.
type op struct {
	// apply runs inside the batch's transaction. It may run twice (see
	// write), so it must not do anything but write through t.
	apply func(t *txn) error
	// done receives the outcome once the transaction has ended; nil for
	// buffered writes nobody waits for. It has room for one value so the
	// writer never blocks on a waiter that gave up.
	done chan error
	// after, when set, runs in the writer once the outcome is known.
	after func(err error)
	// barrier says everything queued before the op must be written in its
	// transaction (Flush): no put waits for its attempt past it.
	barrier bool
	put     *putOp     // set for PutResponse
	att     *attemptOp // set for LogAttempt
	// groupable says the op may wait for a fuller batch (Options.MaxWait):
	// results, attempts and replies. Anything else (batch jobs, runs,
	// caches, Reset, Flush) is written at once, with what is queued.
	groupable bool
}

// txn is a batch transaction with the write statements bound to it once.
type txn struct {
	tx    *sql.Tx
	bound map[*sql.Stmt]*sql.Stmt
}

func (t *txn) exec(st *sql.Stmt, args ...any) (sql.Result, error) {
	return t.stmt(st).Exec(args...)
}

// stmt is st bound to the transaction.
func (t *txn) stmt(st *sql.Stmt) *sql.Stmt {
	b, ok := t.bound[st]
	if !ok {
		b = t.tx.Stmt(st)
		t.bound[st] = b
	}
	return b
}

// run is the writer goroutine: it takes whatever is queued, up to MaxBatch,
// and writes it in one transaction. While a transaction is being written new
// ops pile up in the channel and form the next batch, so the batch size grows
// with the load by itself and an idle store commits a lone write at once.
//
// A put whose attempt has not been queued yet is carried into the next
// batch (pairPuts); if nothing comes within carryWait it is written alone.
func (s *Store) run() {
	defer close(s.stopped)
	batch := make([]*op, 0, s.opts.MaxBatch)
	var carried []*op
	closed := false
	for !closed || len(carried) > 0 {
		batch = append(batch[:0], carried...)
		carried = nil
		if !closed {
			closed = !s.take(&batch)
		}
		if len(batch) == 0 {
			continue
		}
		batch, carried = pairPuts(batch, closed)
		s.write(batch)
		clear(batch) // let the results be collected while the writer idles
	}
}

// carryWait bounds how long a carried put waits for its attempt when the
// queue is idle.
const carryWait = time.Millisecond

// take appends to batch what is queued, up to MaxBatch: it waits for the
// first op when batch is empty, at most carryWait when it is not. Then,
// while every op is groupable, it lingers for more (see linger). It
// returns false once the queue is closed.
func (s *Store) take(batch *[]*op) bool {
	if !s.drain(batch) {
		return false
	}
	return s.linger(batch)
}

// linger keeps adding to a batch of groupable ops while they keep coming:
// it stops when none arrives within Options.MaxGap, when the batch is
// MaxWait old, full, or holds an op that must not wait. Each transaction
// costs about as much to commit whether it holds 4 items or 400 (the
// pages it touches are written once), so a run with many workers commits
// far fewer; a lone Commit waits one MaxGap at most. Commit still returns
// only once its transaction is durable.
//
// It sleeps a gap at a time and then takes what came meanwhile: one
// wake-up per gap, where waiting on the queue woke the writer for every
// op (three per item). An op that must not wait cuts the sleep short
// (enqueue signals urgent).
func (s *Store) linger(batch *[]*op) bool {
	if s.opts.MaxWait <= 0 || !allGroupable(*batch) {
		return true
	}
	deadline := time.Now().Add(s.opts.MaxWait)
	t := time.NewTimer(s.opts.MaxGap)
	defer t.Stop()
	for len(*batch) < s.opts.MaxBatch {
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		t.Reset(min(left, s.opts.MaxGap))
		select {
		case <-t.C:
		case <-s.urgent:
		}
		n := len(*batch)
		if !s.drainNow(batch) {
			return false
		}
		if len(*batch) == n || !allGroupable((*batch)[n:]) {
			return true
		}
	}
	return true
}

func allGroupable(batch []*op) bool {
	for _, o := range batch {
		if !o.groupable {
			return false
		}
	}
	return true
}

// drainNow appends what is queued, without waiting, up to MaxBatch.
func (s *Store) drainNow(batch *[]*op) bool {
	for len(*batch) < s.opts.MaxBatch {
		select {
		case o, ok := <-s.ops:
			if !ok {
				return false
			}
			*batch = append(*batch, o)
		default:
			return true
		}
	}
	return true
}

// drain is take without lingering.
func (s *Store) drain(batch *[]*op) bool {
	if len(*batch) == 0 {
		o, ok := <-s.ops
		if !ok {
			return false
		}
		*batch = append(*batch, o)
	} else {
		t := time.NewTimer(carryWait)
		select {
		case o, ok := <-s.ops:
			t.Stop()
			if !ok {
				return false
			}
			*batch = append(*batch, o)
		case <-t.C:
			return true
		}
	}
	return s.drainNow(batch)
}

// write commits batch and reports to every op. If the batch fails, each op
// is retried in a transaction of its own, so one bad write (a foreign key
// to an unknown run, say) cannot fail the unrelated commits it was grouped
// with.
func (s *Store) write(batch []*op) {
	err := s.commit(batch)
	if err != nil && len(batch) > 1 {
		unpair(batch)
		for _, o := range batch {
			s.finish(o, s.commit([]*op{o}))
		}
		return
	}
	for _, o := range batch {
		s.finish(o, err)
	}
}

func (s *Store) commit(batch []*op) error {
	// Background, not a caller's ctx: a queued write is owed to its caller
	// even if another caller in the batch gives up waiting.
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return corrupt(s.path, err)
	}
	t := &txn{tx: tx, bound: map[*sql.Stmt]*sql.Stmt{}}
	for _, o := range batch {
		if err := o.apply(t); err != nil {
			_ = tx.Rollback()
			s.fpIDs = nil // ids added in it are gone
			return corrupt(s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		s.fpIDs = nil
		return corrupt(s.path, err)
	}
	return nil
}

func (s *Store) finish(o *op, err error) {
	if o.after != nil {
		o.after(err)
	}
	if o.done != nil {
		o.done <- err
		return
	}
	if err != nil {
		s.errMu.Lock()
		if s.asyncErr == nil {
			s.asyncErr = err
		}
		s.errMu.Unlock()
	}
}

// enqueue hands o to the writer, blocking while the queue is full.
func (s *Store) enqueue(ctx context.Context, o *op) error {
	if s.ops == nil {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	}
	if !o.groupable {
		select {
		case s.urgent <- struct{}{}:
		default: // a signal is pending already
		}
	}
	return nil
}

// do runs apply in the writer and waits until its transaction has ended.
// If ctx ends first do returns ctx's error, but the write may still land.
func (s *Store) do(ctx context.Context, apply func(t *txn) error) error {
	return s.wait(ctx, &op{apply: apply, done: make(chan error, 1)})
}

func (s *Store) wait(ctx context.Context, o *op) error {
	if err := s.enqueue(ctx, o); err != nil {
		return err
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every write queued before it is on disk.
func (s *Store) Flush(ctx context.Context) error {
	if s.ops == nil {
		return nil
	}
	o := &op{apply: func(*txn) error { return nil }, done: make(chan error, 1), barrier: true}
	if err := s.wait(ctx, o); err != nil {
		return fmt.Errorf("flushing store: %w", err)
	}
	return nil
}

// Close writes everything queued, stops the writer and closes the file.
// It returns the first error of a buffered write (LogAttempt, PutResponse)
// that failed. Close is idempotent; calls racing with it get ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.ops != nil {
			s.mu.Lock()
			s.closed = true
			close(s.ops)
			s.mu.Unlock()
			<-s.stopped
			if err := indexCacheKeys(context.Background(), s.w); err != nil {
				errs = append(errs, fmt.Errorf("indexing cached replies: %w", err))
			}
			// Fold the WAL into the file and empty it, so the file on disk
			// is the whole store (to copy, to measure). SQLite would do it
			// as the last connection closes, but not while a reader (serve,
			// status) has the file open; then this one waits for it (busy
			// timeout) or leaves the WAL for the next open, which is fine.
			if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				errs = append(errs, fmt.Errorf("checkpointing: %w", err))
			}
			s.errMu.Lock()
			if s.asyncErr != nil {
				errs = append(errs, fmt.Errorf("writing journal: %w", s.asyncErr))
			}
			s.errMu.Unlock()
		}
		errs = append(errs, s.release())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("closing store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// release closes what open managed to open, in reverse order.
func (s *Store) release() error {
	var errs []error
	errs = append(errs, s.rs.close(), s.ws.close())
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.release())
	}
	return errors.Join(errs...)
}
