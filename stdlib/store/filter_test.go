package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

func TestHashSet(t *testing.T) {
	var h hashSet
	for i := uint64(0); i < 10000; i += 2 {
		h.add(i * 0x9e3779b97f4a7c15)
	}
	for i := uint64(0); i < 10000; i++ {
		if got, want := h.has(i*0x9e3779b97f4a7c15), i%2 == 0; got != want {
			t.Fatalf("has(%d) = %v, want %v", i, got, want)
		}
	}
	if h.n != 4999 || !h.hasZero {
		t.Errorf("n = %d, hasZero = %v; want 4999, true", h.n, h.hasZero)
	}
}

func TestKeyHash(t *testing.T) {
	if got := keyHash("0123456789abcdef0000"); got != 0x0123456789abcdef {
		t.Errorf("keyHash of a hex key = %#x", got)
	}
	if keyHash("not hex at all, no") == keyHash("not hex at all, na") {
		t.Error("keyHash of non-hex keys collides")
	}
}

// noReads closes the store's read pool, so any query fails: a miss the
// filters answer must still come back as a clean nil.
func noReads(t *testing.T, s *Store) {
	t.Helper()
	if err := s.r.Close(); err != nil {
		t.Fatal(err)
	}
}

func okResult(step, item, fp string) *runtime.Result {
	return &runtime.Result{Step: step, Item: item, Fingerprint: fp, OK: true, Output: json.RawMessage(`{"a":1}`), Model: "m", Attempts: 1}
}

func TestLookupMissesAskNoSQL(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	if err := s.Commit(ctx, okResult("s", "a", "fp")); err != nil {
		t.Fatal(err)
	}
	// Load the pair's filter, and the response filter, while reads work.
	if got, err := s.Lookup(ctx, "s", "a", "fp"); err != nil || got == nil {
		t.Fatalf("Lookup(a) = %v, %v; want the result", got, err)
	}
	if got, err := s.CachedResponse(ctx, "00112233445566778899aabbccddeeff"); err != nil || got != nil {
		t.Fatalf("CachedResponse(miss) = %v, %v", got, err)
	}
	noReads(t, s)
	for i := range 100 {
		if got, err := s.Lookup(ctx, "s", fmt.Sprint("fresh", i), "fp"); err != nil || got != nil {
			t.Fatalf("Lookup(fresh%d) = %v, %v; want nil, nil without a query", i, got, err)
		}
		key := fmt.Sprintf("%064x", i+1)
		if got, err := s.CachedResponse(ctx, key); err != nil || got != nil {
			t.Fatalf("CachedResponse(%s) = %v, %v; want nil, nil without a query", key, got, err)
		}
	}
	// A possible hit does query (and here fails, reads being closed).
	if _, err := s.Lookup(ctx, "s", "a", "fp"); err == nil {
		t.Error("Lookup of a committed item did not query")
	}
}

func TestFiltersAcrossReopenAndReset(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	for _, item := range []string{"a", "b"} {
		if err := s.Commit(ctx, okResult("s", item, "fp")); err != nil {
			t.Fatal(err)
		}
	}
	key := fmt.Sprintf("%064x", 7)
	if err := s.PutResponse(ctx, key, &runtime.Response{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Resume: what the file holds is found, through the scan at first use.
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lookup := func(item, fp string) bool {
		t.Helper()
		got, err := s.Lookup(ctx, "s", item, fp)
		if err != nil {
			t.Fatal(err)
		}
		return got != nil
	}
	if !lookup("a", "fp") || !lookup("b", "fp") || lookup("c", "fp") || lookup("a", "fp2") {
		t.Error("after reopen: want a and b under fp only")
	}
	if got, err := s.CachedResponse(ctx, key); err != nil || got == nil || got.Text != "hi" {
		t.Errorf("CachedResponse after reopen = %v, %v", got, err)
	}
	// Committed by this process: found, before and after the write lands.
	if err := s.Commit(ctx, okResult("s", "c", "fp")); err != nil {
		t.Fatal(err)
	}
	if !lookup("c", "fp") {
		t.Error("c committed in this process is not found")
	}
	// A commit under a pair not looked up yet is found once it is.
	if err := s.Commit(ctx, okResult("s", "a", "fp3")); err != nil {
		t.Fatal(err)
	}
	if !lookup("a", "fp3") {
		t.Error("a under fp3 is not found")
	}
	// --fresh: everything is gone, then what is committed again is found.
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if lookup("a", "fp") || lookup("c", "fp") || lookup("a", "fp3") {
		t.Error("results found after Reset")
	}
	if err := s.Commit(ctx, okResult("s", "a", "fp")); err != nil {
		t.Fatal(err)
	}
	if !lookup("a", "fp") || lookup("b", "fp") {
		t.Error("after Reset and a commit of a: want a only")
	}
	// The response cache outlives Reset.
	if got, err := s.CachedResponse(ctx, key); err != nil || got == nil {
		t.Errorf("CachedResponse after Reset = %v, %v", got, err)
	}
	key2 := fmt.Sprintf("%064x", 8)
	if err := s.PutResponse(ctx, key2, &runtime.Response{Text: "yo"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CachedResponse(ctx, key2); err != nil || got == nil || got.Text != "yo" {
		t.Errorf("CachedResponse of a written put = %v, %v", got, err)
	}
}

// TestCommitOfAnItemThoughtNew: the writer inserts an item the filter
// calls new without the upsert; should the row exist after all (here
// written behind the filter's back, in a run: a concurrent Commit of the
// same item), it falls back to the upsert in the same transaction.
func TestCommitOfAnItemThoughtNew(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	if r, err := s.Lookup(ctx, "s", "x", "fp"); err != nil || r != nil { // loads the pair: empty
		t.Fatalf("Lookup = %v, %v", r, err)
	}
	if _, err := s.w.Exec(`INSERT INTO fingerprints (fingerprint) VALUES ('fp') ON CONFLICT DO NOTHING;
		INSERT INTO results (step, item, fp, ok, output) VALUES ('s', 'x', `+fpOf+`, 1, '"old"')`, "fp"); err != nil {
		t.Fatal(err)
	}
	res := okResult("s", "x", "fp")
	if err := s.Commit(ctx, res); err != nil {
		t.Fatalf("Commit over a row the filter did not know: %v", err)
	}
	if r, err := s.Lookup(ctx, "s", "x", "fp"); err != nil || r == nil || string(r.Output) != string(res.Output) {
		t.Errorf("Lookup = %+v, %v; want the new output", r, err)
	}
	// The same item committed from many goroutines at once.
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Commit(ctx, okResult("s", "y", "fp")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if r, err := s.Lookup(ctx, "s", "y", "fp"); err != nil || r == nil {
		t.Errorf("Lookup(y) = %v, %v", r, err)
	}
}
