package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

func TestConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{QueueSize: 64}) // a small queue exercises back-pressure
	const workers, each = 64, 12 / raceScale
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				item := fmt.Sprintf("w%02d-%03d", w, i)
				if err := s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: item, Attempt: 1, Status: "ok", Cost: runtime.Dollars(0.001)}); err != nil {
					errs <- err
					return
				}
				if err := s.PutResponse(ctx, item, &runtime.Response{Text: item}); err != nil {
					errs <- err
					return
				}
				if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: item, Fingerprint: "f", OK: true, Attempts: i, Cost: runtime.Dollars(0.001)}); err != nil {
					errs <- err
					return
				}
				// Read-your-write, from the read pool, while others write.
				if r, err := s.Lookup(ctx, "s", item, "f"); err != nil || r == nil || r.Attempts != i {
					errs <- fmt.Errorf("Lookup(%s) right after Commit = %+v, %v", item, r, err)
					return
				}
				if r, err := s.CachedResponse(ctx, item); err != nil || r == nil || r.Text != item {
					errs <- fmt.Errorf("CachedResponse(%s) = %+v, %v", item, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Steps) != 1 {
		t.Fatalf("Status steps = %+v", st.Steps)
	}
	step := st.Steps[0]
	if f := step.Fingerprint("f"); f.Done != workers*each || f.Failed != 0 {
		t.Errorf("results = %+v, want %d done", f, workers*each)
	}
	if step.Calls != workers*each || st.Responses != workers*each {
		t.Errorf("attempts = %d, responses = %d; want %d each", step.Calls, st.Responses, workers*each)
	}
	n := 0
	if err := s.Results(ctx, "s", "f", func(*runtime.Result) error { n++; return nil }); err != nil || n != workers*each {
		t.Errorf("Results visited %d, %v", n, err)
	}
}

// TestCommitsAreGrouped checks the point of the writer: many waiting
// commits share transactions.
func TestCommitsAreGrouped(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	var txns atomic.Int64
	// Stall the writer on a first write so the commits below queue up.
	release := make(chan struct{})
	started := make(chan struct{})
	go s.do(ctx, func(*txn) error { close(started); <-release; return nil }) // returns once released
	<-started
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: fmt.Sprint(i), Fingerprint: "f", OK: true}); err != nil {
				t.Error(err)
			}
		})
	}
	// Wait until all are queued, then count transactions with a probe op
	// per batch.
	for deadline := time.Now().Add(5 * time.Second); len(s.ops) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d commits queued", len(s.ops))
		}
		time.Sleep(time.Millisecond)
	}
	s.enqueue(ctx, &op{apply: func(*txn) error { txns.Add(1); return nil }})
	close(release)
	wg.Wait()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// All 100 commits and the probe fit in one batch after the stalled one.
	if got := txns.Load(); got != 1 {
		t.Errorf("probe ran %d times; want 1 (commits grouped into one transaction)", got)
	}
}
