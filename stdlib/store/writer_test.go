package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/runtime"
)

// stall blocks the writer until the returned func is called.
func stall(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.do(context.Background(), func(*txn) error { close(started); <-unblock; return nil })
	}()
	<-started
	var once sync.Once
	release = func() { once.Do(func() { close(unblock); <-done }) }
	t.Cleanup(release)
	return release
}

func TestBufferedWritesApplyBackPressure(t *testing.T) {
	s, _ := openTemp(t, Options{QueueSize: 2})
	release := stall(t, s)
	ctx := context.Background()
	for i := range 2 {
		if err := s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: fmt.Sprint(i), Status: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is full: the next write waits, and gives up with its ctx.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.LogAttempt(short, &runtime.Attempt{Step: "s", Item: "late", Status: "ok"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LogAttempt on a full queue: %v, want DeadlineExceeded", err)
	}
	if err := s.PutResponse(short, "k", &runtime.Response{Text: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutResponse on a full queue: %v, want DeadlineExceeded", err)
	}
	// A reply that never got queued must not be served from memory either.
	if r, err := s.CachedResponse(ctx, "k"); err != nil || r != nil {
		t.Errorf("CachedResponse of an unqueued reply = %+v, %v", r, err)
	}
	release()
	h, err := s.History(ctx, "1")
	if err != nil || len(h.Attempts) != 1 {
		t.Errorf("queued attempt after release: %+v, %v", h, err)
	}
}

func TestCommitWaitRespectsContext(t *testing.T) {
	s, _ := openTemp(t, Options{})
	release := stall(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Commit(ctx, &runtime.Result{Step: "s", Item: "a", Fingerprint: "f", OK: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Commit behind a stalled writer: %v, want DeadlineExceeded", err)
	}
	release()
	// The write was queued, so it still lands.
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Lookup(context.Background(), "s", "a", "f"); err != nil || r == nil {
		t.Errorf("abandoned commit: %v, %v", r, err)
	}
}

// TestCloseDuringCommits closes the store under 32 busy committers: every
// Commit either succeeds, and is then on disk, or fails with ErrClosed.
func TestCloseDuringCommits(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{QueueSize: 8})
	var (
		mu sync.Mutex
		ok []string
		wg sync.WaitGroup
	)
	for w := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				item := fmt.Sprintf("%d-%d", w, i)
				_ = s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: item, Status: "ok"})
				err := s.Commit(ctx, &runtime.Result{Step: "s", Item: item, Fingerprint: "f", OK: true})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ok = append(ok, item)
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if len(ok) == 0 {
		t.Fatal("no commit succeeded before Close")
	}
	for _, item := range ok {
		if r, err := ro.Lookup(ctx, "s", item, "f"); err != nil || r == nil {
			t.Fatalf("committed %s missing after Close: %v", item, err)
		}
	}
}

// TestBatchJobsAreNotDelayed: group commit may hold results, attempts and
// replies for a fuller transaction, never a batch job's record. With a
// wait of an hour, a lingering transaction is cut short by the job.
func TestBatchJobsAreNotDelayed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // far below the hour
	defer cancel()
	s, _ := openTemp(t, Options{MaxWait: time.Hour, MaxGap: time.Hour})
	// Queued alone, an attempt would wait for company (up to the hour).
	if err := s.LogAttempt(ctx, &runtime.Attempt{Step: "s", Item: "a", Status: "ok"}); err != nil {
		t.Fatal(err)
	}
	j := &runtime.BatchJob{Step: "s", Model: "m", DisplayName: "llmpipe-p-1-1"}
	if err := s.AddBatchJob(ctx, j); err != nil {
		t.Fatalf("AddBatchJob behind a lingering transaction: %v", err)
	}
	if err := s.SetBatchJobName(ctx, j.ID, "batches/1"); err != nil {
		t.Fatal(err)
	}
	// The attempt went with the job's transaction.
	h, err := s.History(ctx, "a")
	if err != nil || len(h.Attempts) != 1 {
		t.Errorf("History(a) = %+v, %v", h, err)
	}
}

// TestGroupCommitKeepsCommitsDurable: with a long wait, concurrent
// commits share transactions, and each returns only once its result can
// be read back.
func TestGroupCommitKeepsCommitsDurable(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{MaxWait: 50 * time.Millisecond, MaxGap: 10 * time.Millisecond})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			item := fmt.Sprint(i)
			if err := s.Commit(ctx, okResult("s", item, "fp")); err != nil {
				t.Error(err)
				return
			}
			if r, err := s.Lookup(ctx, "s", item, "fp"); err != nil || r == nil {
				t.Errorf("Lookup(%s) after Commit = %v, %v", item, r, err)
			}
		}()
	}
	wg.Wait()
}
