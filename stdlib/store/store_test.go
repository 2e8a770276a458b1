package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
)

func openTemp(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "p.db")
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// at gives distinct, exactly representable times.
func at(sec int) time.Time { return time.Date(2026, 1, 2, 3, 4, sec, 123456789, time.UTC) }

func failedResult(step, item string) *runtime.Result {
	return &runtime.Result{
		Step: step, Item: item, Fingerprint: "fp1", OK: false, Model: "gemini-2.5-pro", Rung: 1, Attempts: 3,
		Failure: &runtime.Failure{
			Class: runtime.ClassCheckFailed, Message: "check failed", LastReply: `{"a":1}`, Line: 4,
			Errors: []runtime.AttemptError{{
				Attempt: 1, Model: "gemini-2.5-flash", Class: runtime.ClassInvalidOutput, Message: "bad json",
				Fields: []interp.FieldError{{Field: "a", Message: "missing"}}, At: at(1),
			}, {Attempt: 2, Model: "gemini-2.5-pro", Class: runtime.ClassCheckFailed, Message: "len(a) > 3", At: at(2)}},
		},
		Usage: runtime.Usage{PromptTokens: 10, OutputTokens: 20, CachedTokens: 3, ThinkingTokens: 4},
		Cost:  runtime.Dollars(0.5), Plan: 2, At: at(3),
	}
}

func TestCommitLookupRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	runID, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p.llmp", Started: at(0), Args: []string{"run", "-n", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	ok := &runtime.Result{
		RunID: runID, Step: "summarize", Item: "a", Fingerprint: "fp1", OK: true,
		Output: json.RawMessage(`{"summary":"hi"}`), Model: "gemini-2.5-flash", Attempts: 1,
		Usage: runtime.Usage{PromptTokens: 1, OutputTokens: 2, CachedTokens: 0, ThinkingTokens: 5},
		Cost:  runtime.Dollars(0.01), Plan: 1, At: at(5),
	}
	bad := failedResult("summarize", "b")
	bad.RunID = runID
	for _, r := range []*runtime.Result{ok, bad} {
		if err := s.Commit(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.Lookup(ctx, r.Step, r.Item, r.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("Lookup(%s) =\n%+v\nwant\n%+v", r.Item, got, r)
		}
	}
	for _, miss := range [][3]string{{"summarize", "a", "fp2"}, {"other", "a", "fp1"}, {"summarize", "zz", "fp1"}} {
		got, err := s.Lookup(ctx, miss[0], miss[1], miss[2])
		if err != nil || got != nil {
			t.Errorf("Lookup(%v) = %v, %v; want nil, nil", miss, got, err)
		}
	}
}

func TestCommitReplaces(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	first := failedResult("s", "x")
	if err := s.Commit(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := &runtime.Result{Step: "s", Item: "x", Fingerprint: "fp1", OK: true, Output: json.RawMessage(`1`), At: at(9)}
	if err := s.Commit(ctx, second); err != nil {
		t.Fatal(err)
	}
	got, err := s.Lookup(ctx, "s", "x", "fp1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, second) {
		t.Errorf("after second commit: %+v, want %+v", got, second)
	}
}

func TestCommitUnknownRunDoesNotSpoilBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	// The foreign key rejects run 999; the good result must land anyway.
	errc := make(chan error, 1)
	go func() {
		errc <- s.Commit(ctx, &runtime.Result{RunID: 999, Step: "s", Item: "bad", Fingerprint: "f", OK: true})
	}()
	if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: "good", Fingerprint: "f", OK: true}); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil {
		t.Error("commit with unknown run id succeeded")
	}
	if r, err := s.Lookup(ctx, "s", "good", "f"); err != nil || r == nil {
		t.Errorf("good result: %v, %v", r, err)
	}
}

func TestResultsOrderAndStop(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	for _, item := range []string{"c", "a", "b"} {
		for _, fp := range []string{"new", "old"} {
			if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: item, Fingerprint: fp, OK: true, Output: json.RawMessage(`"` + item + fp + `"`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Commit(ctx, &runtime.Result{Step: "t", Item: "a", Fingerprint: "new", OK: true}); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.Results(ctx, "s", "new", func(r *runtime.Result) error {
		got = append(got, string(r.Output))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`"anew"`, `"bnew"`, `"cnew"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("Results = %v, want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err = s.Results(ctx, "s", "new", func(*runtime.Result) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Results with failing fn: err %v after %d calls; want stop after 1", err, n)
	}
}

func TestAttemptsHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	runID, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p", Started: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	attempts := []runtime.Attempt{
		{RunID: runID, Step: "extract", Item: "a", Attempt: 1, Model: "flash", RequestKey: "k1", Prompt: "p1",
			Reply: "garbage", Status: "invalid_output", Error: "not json",
			Usage: runtime.Usage{PromptTokens: 1, OutputTokens: 2, CachedTokens: 3, ThinkingTokens: 4},
			Cost:  runtime.Dollars(0.25), Latency: 1500 * time.Millisecond, At: at(1)},
		{RunID: runID, Step: "extract", Item: "a", Attempt: 2, Rung: 1, Model: "pro", RequestKey: "k2", Prompt: "p2",
			Reply: `{"x":1}`, Status: "ok", Cost: runtime.Dollars(0.5), Latency: time.Second, Cached: true, At: at(2)},
		{RunID: runID, Step: "extract", Item: "other", Attempt: 1, Model: "flash", Status: "ok", At: at(3)},
		{Step: "summarize", Item: "a", Attempt: 1, Model: "flash", Status: "ok", Reply: "sum", At: at(4)},
	}
	for i := range attempts {
		if err := s.LogAttempt(ctx, &attempts[i]); err != nil {
			t.Fatal(err)
		}
	}
	res := failedResult("extract", "a")
	if err := s.Commit(ctx, res); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	want := []runtime.Attempt{attempts[0], attempts[1], attempts[3]}
	if !reflect.DeepEqual(h.Attempts, want) {
		t.Errorf("History attempts =\n%+v\nwant\n%+v", h.Attempts, want)
	}
	if len(h.Results) != 1 || !reflect.DeepEqual(&h.Results[0], res) {
		t.Errorf("History results = %+v, want [%+v]", h.Results, res)
	}
	if h, err := s.History(ctx, "nobody"); err != nil || len(h.Attempts)+len(h.Results) != 0 {
		t.Errorf("History(nobody) = %+v, %v", h, err)
	}
}

func TestResponsesVisibleBeforeAndAfterFlush(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	resp := &runtime.Response{Text: "hello", Usage: runtime.Usage{PromptTokens: 7, OutputTokens: 8}, FinishReason: "STOP", ModelVersion: "v1"}
	if err := s.PutResponse(ctx, "k", resp); err != nil {
		t.Fatal(err)
	}
	// No flush: served from the pending map or already from the file.
	got, err := s.CachedResponse(ctx, "k")
	if err != nil || !reflect.DeepEqual(got, resp) {
		t.Fatalf("CachedResponse before flush = %+v, %v", got, err)
	}
	if got, err := s.CachedResponse(ctx, "missing"); err != nil || got != nil {
		t.Errorf("CachedResponse(missing) = %v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err = ro.CachedResponse(ctx, "k")
	if err != nil || !reflect.DeepEqual(got, resp) {
		t.Errorf("CachedResponse after reopen = %+v, %v", got, err)
	}
}

func TestPendingResponseIsDroppedOnceWritten(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	if err := s.PutResponse(ctx, "k", &runtime.Response{Text: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.pendingMu.Lock()
	n := len(s.pending)
	s.pendingMu.Unlock()
	if n != 0 {
		t.Errorf("%d pending responses after flush", n)
	}
	if got, err := s.CachedResponse(ctx, "k"); err != nil || got == nil || got.Text != "a" {
		t.Errorf("CachedResponse from file = %+v, %v", got, err)
	}
}

func TestCaches(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	a := runtime.CacheRecord{Name: "cachedContents/a", Cache: "docs", Model: "flash", Tokens: 5000, Created: at(1), Expires: at(2)}
	b := runtime.CacheRecord{Name: "cachedContents/b", Cache: "docs", Model: "pro", Tokens: 9000, Created: at(3)}
	for _, c := range []runtime.CacheRecord{b, a} {
		if err := s.SaveCache(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	a.Expires = at(40) // a TTL update re-saves the record
	if err := s.SaveCache(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Caches(ctx)
	if err != nil || !reflect.DeepEqual(got, []runtime.CacheRecord{a, b}) {
		t.Errorf("Caches = %+v, %v; want %+v", got, err, []runtime.CacheRecord{a, b})
	}
	if err := s.ForgetCache(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetCache(ctx, "never-saved"); err != nil {
		t.Errorf("forgetting unknown cache: %v", err)
	}
	got, err = s.Caches(ctx)
	if err != nil || !reflect.DeepEqual(got, []runtime.CacheRecord{b}) {
		t.Errorf("Caches after forget = %+v, %v", got, err)
	}
}

func TestResetKeepsResponses(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: "a", Fingerprint: "f", OK: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutResponse(ctx, "k", &runtime.Response{Text: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Lookup(ctx, "s", "a", "f"); err != nil || r != nil {
		t.Errorf("Lookup after Reset = %v, %v; want nil", r, err)
	}
	if r, err := s.CachedResponse(ctx, "k"); err != nil || r == nil {
		t.Errorf("CachedResponse after Reset = %v, %v; want the reply", r, err)
	}
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	st, err := s.Status(ctx)
	if err != nil || st.Runs != 0 || st.LastRun != nil || len(st.Steps) != 0 {
		t.Fatalf("empty Status = %+v, %v", st, err)
	}
	if _, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p", Started: at(0)}); err != nil {
		t.Fatal(err)
	}
	run2, err := s.BeginRun(ctx, runtime.RunInfo{Pipeline: "p", Started: at(10), Args: []string{"--fresh"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndRun(ctx, run2, json.RawMessage(`{"done":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.EndRun(ctx, 12345, nil); err == nil {
		t.Error("EndRun of an unknown run succeeded")
	}
	commits := []*runtime.Result{
		{Step: "b", Item: "1", Fingerprint: "old", OK: true, Cost: runtime.Dollars(1), At: at(1)},
		{Step: "b", Item: "1", Fingerprint: "new", OK: true, Cost: runtime.Dollars(2), Usage: runtime.Usage{PromptTokens: 10}, At: at(20)},
		{Step: "b", Item: "2", Fingerprint: "new", OK: true, Cost: runtime.Dollars(3), Usage: runtime.Usage{PromptTokens: 5, OutputTokens: 1}, At: at(21)},
		{Step: "b", Item: "3", Fingerprint: "new", OK: false, Failure: &runtime.Failure{Class: runtime.ClassFatal}, At: at(22)},
		{Step: "a", Item: "1", Fingerprint: "x", OK: true, At: at(5)},
	}
	for _, r := range commits {
		if err := s.Commit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []runtime.Attempt{
		{Step: "b", Item: "1", Status: "ok", Cost: runtime.Dollars(0.5), Usage: runtime.Usage{PromptTokens: 3, ThinkingTokens: 2}},
		{Step: "b", Item: "2", Status: "fatal", Cost: runtime.Dollars(0.25), Usage: runtime.Usage{PromptTokens: 4, CachedTokens: 1}},
	} {
		if err := s.LogAttempt(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutResponse(ctx, "k", &runtime.Response{}); err != nil {
		t.Fatal(err)
	}
	st, err = s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs != 2 || st.Responses != 1 || st.LastRun == nil || st.LastRun.ID != run2 ||
		!st.LastRun.Started.Equal(at(10)) || st.LastRun.Ended.IsZero() ||
		string(st.LastRun.Summary) != `{"done":2}` || !reflect.DeepEqual(st.LastRun.Args, []string{"--fresh"}) {
		t.Errorf("Status runs: %+v, last %+v", st, st.LastRun)
	}
	want := []StepStatus{
		{Step: "a", Fingerprints: []FingerprintStatus{{Fingerprint: "x", Done: 1, Last: at(5)}}},
		{Step: "b", Fingerprints: []FingerprintStatus{
			{Fingerprint: "new", Done: 2, Failed: 1, Cost: 5, Usage: runtime.Usage{PromptTokens: 15, OutputTokens: 1}, Last: at(22)},
			{Fingerprint: "old", Done: 1, Cost: 1, Last: at(1)},
		}, Calls: 2, Spent: 0.75, Usage: runtime.Usage{PromptTokens: 7, CachedTokens: 1, ThinkingTokens: 2}},
	}
	if !reflect.DeepEqual(st.Steps, want) {
		t.Errorf("Status steps =\n%+v\nwant\n%+v", st.Steps, want)
	}
	if f := st.Steps[1].Fingerprint("old"); f.Done != 1 {
		t.Errorf("Fingerprint(old) = %+v", f)
	}
	if f := st.Steps[1].Fingerprint("gone"); f.Done+f.Failed != 0 || f.Fingerprint != "gone" {
		t.Errorf("Fingerprint(gone) = %+v", f)
	}
}

func TestClosedAndReadOnly(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Commit(ctx, &runtime.Result{Step: "s"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Commit(ctx, &runtime.Result{Step: "s"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Commit on read-only: %v, want ErrReadOnly", err)
	}
	if err := ro.LogAttempt(ctx, &runtime.Attempt{}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("LogAttempt on read-only: %v, want ErrReadOnly", err)
	}
	if _, err := ro.Status(ctx); err != nil {
		t.Errorf("Status on read-only: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing store succeeded")
	}
}

func TestCommitHonoursContext(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Commit(ctx, &runtime.Result{Step: "s", Item: "a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with cancelled ctx: %v", err)
	}
}
